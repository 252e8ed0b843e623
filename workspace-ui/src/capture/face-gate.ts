/**
 * MediaPipe tasks-vision FaceDetector in the browser (CPU delegate: headless Chromium has no GPU),
 * loaded from the lab's own files (vite.config.ts `faceGateAssets`: the WASM and the BlazeFace
 * model with its metadata completed at build time), never from a CDN. Loaded lazily, once.
 */
import { FaceDetector } from '@mediapipe/tasks-vision';
import assets from 'virtual:face-gate-assets';
import { DEFAULT_GATE_LIMITS, judge, laplacianVariance, type GateFace, type GateResult } from './gate-rules.ts';

let detector: Promise<FaceDetector> | undefined;

function faceDetector(): Promise<FaceDetector> {
  detector ??= FaceDetector.createFromOptions(
    { wasmLoaderPath: assets.wasmLoaderPath, wasmBinaryPath: assets.wasmBinaryPath },
    { baseOptions: { modelAssetPath: assets.modelAssetPath, delegate: 'CPU' }, runningMode: 'IMAGE', minDetectionConfidence: 0.5 },
  );
  detector.catch(() => { detector = undefined; });
  return detector;
}

/** Sharpness of a face: the Laplacian variance of its box, scaled to 112 px wide, in grey. */
function sharpnessIn(canvas: HTMLCanvasElement, face: GateFace): number {
  const size = 112;
  const crop = document.createElement('canvas');
  crop.width = size;
  crop.height = size;
  const ctx = crop.getContext('2d', { willReadFrequently: true });
  if (!ctx) return 0;
  ctx.drawImage(canvas, face.box.x, face.box.y, face.box.w, face.box.h, 0, 0, size, size);
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const grey = new Float32Array(size * size);
  for (let i = 0; i < grey.length; i++) grey[i] = 0.299 * (rgba[4 * i] ?? 0) + 0.587 * (rgba[4 * i + 1] ?? 0) + 0.114 * (rgba[4 * i + 2] ?? 0);
  return laplacianVariance(grey, size, size);
}

/** Runs the gate on a picture already drawn into a canvas (a camera frame or a decoded file). */
export async function checkFace(canvas: HTMLCanvasElement): Promise<GateResult> {
  const d = await faceDetector();
  const found = d.detect(canvas).detections;
  const faces: GateFace[] = found.map((det) => ({
    box: { x: det.boundingBox?.originX ?? 0, y: det.boundingBox?.originY ?? 0, w: det.boundingBox?.width ?? 0, h: det.boundingBox?.height ?? 0 },
    score: det.categories[0]?.score ?? 0,
    keypoints: det.keypoints.map((k) => ({ x: k.x * canvas.width, y: k.y * canvas.height })),
  }));
  return judge(faces, (f) => sharpnessIn(canvas, f), DEFAULT_GATE_LIMITS);
}
