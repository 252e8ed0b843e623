import * as ort from 'onnxruntime-node';
import { LabError, t } from '../errors/index.ts';
import {
  applySimilarity, estimatePose, fitSimilarity, laplacianVariance, similarityScale, warpBilinear, type Similarity,
} from './align.ts';
import { decodeCandidates, generateAnchors, weightedNms, type Detection } from './blazeface-decode.ts';
import {
  FACE_MODEL_ID, loadModelDir, parseFaceEngineConfig, type DetectorSpec, type EmbedderSpec, type FaceEngineConfig, type FaceEngineConfigInput,
} from './face-config.ts';
import type { FaceAnalysis, FaceBatchItem, FaceBox, FaceEngine, FaceModelIdentity, FacePoint, FaceQuality } from './face-types.ts';
import { decodeImage, letterbox, shrinkRegion, type RgbImage } from './image-decode.ts';
import { defaultFaceModel } from './default-model.ts';
import { EmbedderThread } from './embedder-thread.ts';

/** The model pair an engine runs: specs plus ONNX bytes. */
export interface FaceModelSource {
  readonly id: string;
  readonly matchThreshold: number;
  readonly detector: DetectorSpec;
  readonly embedder: EmbedderSpec;
  readonly detectorBytes: Uint8Array;
  readonly embedderBytes: Uint8Array;
}

/** Cosine similarity of two L2-normalised templates (their dot product), −1…1. */
export function faceSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new LabError('LAB-E142', { detail: t('模板维度不同', 'templates of different dimensions') });
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

/** A face that passed the gates, its crop ready for the embedder. */
interface Prepared {
  readonly crop: Float32Array;
  readonly box: { x: number; y: number; w: number; h: number };
  readonly landmarks: FacePoint[];
  readonly quality: FaceQuality;
}

type Stage = { kind: 'ready'; face: Prepared } | Extract<FaceAnalysis, { kind: 'unusable' }>;

interface FoundFace {
  readonly box: { x: number; y: number; w: number; h: number };
  readonly landmarks: FacePoint[];
  readonly partial: Omit<FaceQuality, 'sharpness'>;
}

/**
 * Opens the face engine: the model pair from `config.modelDir`, else `LAB_FACE_MODEL_DIR`, else the
 * npm-shipped BlazeFace + HSE FaceRes pair converted to ONNX in memory. Throws LAB-E142 for a bad
 * configuration and LAB-E143 when a model cannot be converted or loaded.
 */
export async function openFaceEngine(configInput?: FaceEngineConfigInput): Promise<FaceEngine> {
  const config = parseFaceEngineConfig(configInput);
  const dir = config.modelDir ?? process.env.LAB_FACE_MODEL_DIR;
  const source: FaceModelSource = dir ? loadModelDir(dir) : await defaultFaceModel();
  return openFaceEngineWith(source, config);
}

export async function openFaceEngineWith(source: FaceModelSource, config: FaceEngineConfig): Promise<FaceEngine> {
  if (!FACE_MODEL_ID.test(source.id)) {
    throw new LabError('LAB-E142', { detail: t(`模型标识 ${JSON.stringify(source.id)} 须为 1–64 个小写字母、数字或 . _ -`, `the model id ${JSON.stringify(source.id)} must be 1–64 lower-case letters, digits or . _ -`), field: 'modelDir' });
  }
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: config.threads,
    interOpNumThreads: 1,
    // Threads that wait spinning only steal the other session's core on a small machine.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  let detector: ort.InferenceSession;
  const embedder = new EmbedderThread(source.embedderBytes, { threads: config.threads, inputName: source.embedder.inputName, output: source.embedder.output });
  try {
    detector = await ort.InferenceSession.create(source.detectorBytes, options);
    await embedder.ready;
  } catch (cause) {
    await embedder.close();
    if (cause instanceof LabError) throw cause;
    throw new LabError('LAB-E143', { detail: t('ONNX Runtime 无法加载模型', 'ONNX Runtime cannot load the model'), cause });
  }
  return new OnnxFaceEngine(source, config, detector, embedder);
}

class OnnxFaceEngine implements FaceEngine {
  readonly model: FaceModelIdentity;
  #closed = false;
  readonly #anchors: Float32Array;
  readonly #detectorInput: string;

  constructor(
    private readonly source: FaceModelSource,
    private readonly config: FaceEngineConfig,
    private readonly detector: ort.InferenceSession,
    private readonly embedder: EmbedderThread,
  ) {
    const d = source.detector;
    this.model = { id: source.id, embeddingDim: source.embedder.embeddingDim, matchThreshold: config.matchThreshold ?? source.matchThreshold };
    this.#anchors = generateAnchors(d.inputSize, d.anchorStrides, d.anchorsPerCell);
    this.#detectorInput = d.inputName ?? detector.inputNames[0] ?? 'input';
  }

  async analyse(image: Uint8Array): Promise<FaceAnalysis> {
    const [item] = await this.#run([image], true);
    if (!item) throw new LabError('LAB-E144', { detail: t('没有结果', 'no result') });
    if (item.kind === 'rejected') throw item.error;
    return item;
  }

  analyseMany(images: readonly Uint8Array[]): Promise<FaceBatchItem[]> {
    return this.#run(images, false);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.detector.release(), this.embedder.close()]);
  }

  #checkOpen(): void {
    if (this.#closed) throw new LabError('LAB-E145');
  }

  /**
   * Two stages that overlap: decode, detection, gates and alignment image after image, while full batches
   * of crops go through the embedder in its own thread (onnxruntime-node runs a session on the calling
   * thread, so the two stages use both cores).
   */
  async #run(images: readonly Uint8Array[], rethrowUnexpected: boolean): Promise<FaceBatchItem[]> {
    this.#checkOpen();
    const out: (FaceBatchItem | undefined)[] = new Array<FaceBatchItem | undefined>(images.length);
    let pending: { index: number; face: Prepared }[] = [];
    let embedding: Promise<void> = Promise.resolve();
    const flush = (): void => {
      const batch = pending;
      pending = [];
      embedding = embedding.then(() => this.#embedInto(batch, out));
    };
    try {
      for (let i = 0; i < images.length; i++) {
        const bytes = images[i];
        if (!bytes) continue;
        try {
          const stage = await this.#prepare(bytes);
          if (stage.kind === 'ready') pending.push({ index: i, face: stage.face });
          else out[i] = stage;
        } catch (error) {
          if (!(error instanceof LabError) || (rethrowUnexpected && error.kind !== 'user')) throw error;
          out[i] = { kind: 'rejected', error };
        }
        if (pending.length >= this.config.batchSize) flush();
      }
      if (pending.length > 0) flush();
    } finally {
      await embedding.catch(() => undefined);
    }
    await embedding;
    return out.map((item) => item ?? { kind: 'rejected', error: new LabError('LAB-E140', { detail: t('缺少图片', 'missing image') }) });
  }

  async #embedInto(batch: { index: number; face: Prepared }[], out: (FaceBatchItem | undefined)[]): Promise<void> {
    const templates = await this.#embed(batch.map((b) => b.face.crop));
    batch.forEach(({ index, face }, k) => {
      const template = templates[k];
      if (!template) return;
      out[index] = { kind: 'face', template, box: face.box, landmarks: face.landmarks, quality: face.quality };
    });
  }

  /** Decode → letterbox → detect → gates → align. */
  async #prepare(bytes: Uint8Array): Promise<Stage> {
    const img = await decodeImage(bytes, this.config.limits);
    const gates = this.config.gates;
    const faces = await this.#facesIn(img);
    const main = faces[0];
    if (!main) {
      return { kind: 'unusable', reason: 'no-face', faces: 0, detail: t('照片中没有检测到人脸，请正对镜头重拍', 'no face found in the photo; retake it facing the camera') };
    }
    const others = faces.slice(1).filter((f) => f.box.w >= gates.secondFaceRatio * main.box.w);
    if (others.length > 0) {
      return {
        kind: 'unusable', reason: 'several-faces', faces: others.length + 1, quality: { ...main.partial, sharpness: 0 },
        detail: t(`照片中有 ${others.length + 1} 张人脸，请只拍一人`, `${others.length + 1} faces in the photo; photograph one person only`),
      };
    }
    return this.#gateAndAlign(img, main);
  }

  /** Faces above the score threshold, largest first, in image coordinates. */
  async #facesIn(img: RgbImage): Promise<FoundFace[]> {
    const spec = this.source.detector;
    const { pixels, box: lb } = await letterbox(img, spec.inputSize);
    const detections = await this.#detect(pixels);
    const toImg = (x: number, y: number): FacePoint => [(x - lb.padX) / lb.scale, (y - lb.padY) / lb.scale];
    return detections
      .filter((d) => d.score >= this.config.gates.minScore)
      .sort((a, b) => b.w - a.w)
      .map((d) => {
        const landmarks = d.keypoints.map(([x, y]) => toImg(x, y));
        const [x0, y0] = toImg(d.cx - d.w / 2, d.cy - d.h / 2);
        const box = { x: x0, y: y0, w: d.w / lb.scale, h: d.h / lb.scale };
        const pose = estimatePose(landmarks);
        return { box, landmarks, partial: { score: d.score, faceWidth: box.w, eyeDistance: pose.eyeDistance, yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll } };
      });
  }

  async #gateAndAlign(img: RgbImage, face: FoundFace): Promise<Stage> {
    const gates = this.config.gates;
    const { partial, box, landmarks } = face;
    if (Math.abs(partial.yaw) > gates.maxYaw || Math.abs(partial.pitch) > gates.maxPitch) {
      return {
        kind: 'unusable', reason: 'not-frontal', faces: 1, quality: { ...partial, sharpness: 0 },
        detail: t('请正对镜头，不要侧脸、抬头或低头', 'face the camera; do not turn, raise or lower the head'),
      };
    }
    if (partial.faceWidth < gates.minFaceWidth) {
      return {
        kind: 'unusable', reason: 'too-small', faces: 1, quality: { ...partial, sharpness: 0 },
        detail: t('人脸太小，请靠近一些或提高分辨率', 'the face is too small; move closer or use a higher resolution'),
      };
    }
    const crop = await this.#align(img, landmarks);
    const sharpness = laplacianVariance(crop, this.source.embedder.inputSize);
    const quality: FaceQuality = { ...partial, sharpness };
    if (sharpness < gates.minSharpness) {
      return {
        kind: 'unusable', reason: 'blurred', faces: 1, quality,
        detail: t('照片模糊，请保持稳定并对焦后重拍', 'the photo is blurred; hold still, focus and retake it'),
      };
    }
    return { kind: 'ready', face: { crop, box, landmarks, quality } };
  }

  async analyseEveryFace(image: Uint8Array): Promise<FaceAnalysis[]> {
    this.#checkOpen();
    const img = await decodeImage(image, this.config.limits);
    const stages: Stage[] = [];
    for (const f of await this.#facesIn(img)) stages.push(await this.#gateAndAlign(img, f));
    const ready = stages.flatMap((s) => (s.kind === 'ready' ? [s.face] : []));
    const templates = ready.length > 0 ? await this.#embed(ready.map((f) => f.crop)) : [];
    let k = 0;
    return stages.map((s): FaceAnalysis => {
      if (s.kind !== 'ready') return s;
      const template = templates[k++];
      if (!template) throw new LabError('LAB-E144', { detail: t('缺少嵌入结果', 'an embedding is missing') });
      return { kind: 'face', template, box: s.face.box, landmarks: s.face.landmarks, quality: s.face.quality };
    });
  }

  /** The aligned crop the embedder would see (RGB 0…255, interleaved), for inspection and tests. */
  async alignedCrops(image: Uint8Array): Promise<{ crop: Float32Array; size: number; box: FaceBox }[]> {
    const img = await decodeImage(image, this.config.limits);
    const faces = await this.#facesIn(img);
    const size = this.source.embedder.inputSize;
    return Promise.all(faces.map(async (f) => ({ crop: await this.#align(img, f.landmarks), size, box: f.box })));
  }

  async #detect(pixels: Uint8Array): Promise<Detection[]> {
    const spec = this.source.detector;
    const size = spec.inputSize;
    const input = toTensorData(pixels, size, spec.layout, spec.mean, spec.std);
    const dims = spec.layout === 'nhwc' ? [1, size, size, 3] : [1, 3, size, size];
    const result = await this.#runSession(this.detector, { [this.#detectorInput]: new ort.Tensor('float32', input, dims) });
    const logits: Float32Array[] = [];
    const regs: Float32Array[] = [];
    for (let i = 0; i < spec.scores.length; i++) {
      logits.push(outputData(result, spec.scores[i] ?? ''));
      regs.push(outputData(result, spec.regressors[i] ?? ''));
    }
    const allLogits = concat(logits);
    const allRegs = concat(regs);
    if (allLogits.length * 2 !== this.#anchors.length || allRegs.length !== allLogits.length * 16) {
      throw new LabError('LAB-E144', { detail: t('检测模型输出与锚点数量不符', 'detector outputs do not match the anchors') });
    }
    // Low floor for candidates: a second face is counted against minScore later; NMS needs the weaker boxes too.
    const candidates = decodeCandidates(allLogits, allRegs, this.#anchors, Math.min(0.5, this.config.gates.minScore));
    return weightedNms(candidates);
  }

  /** Similarity transform from the eyes, nose and mouth to the embedder's template; bilinear warp. */
  async #align(img: RgbImage, landmarks: FacePoint[]): Promise<Float32Array> {
    const spec = this.source.embedder;
    const size = spec.inputSize;
    const src = landmarks.slice(0, 4);
    const dst = spec.alignTemplate.map(([u, v]) => [u * size, v * size] as [number, number]);
    let outToImg: Similarity = fitSimilarity(dst, src);
    const scale = similarityScale(outToImg);
    if (scale <= 1.5) return warpBilinear(img, outToImg, size);
    // A large face: shrink its region with libvips first so the bilinear warp does not alias.
    const corners = [[0, 0], [size, 0], [0, size], [size, size]].map(([u, v]) => applySimilarity(outToImg, u ?? 0, v ?? 0));
    const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
    const left = Math.max(0, Math.floor(Math.min(...xs)) - 2);
    const top = Math.max(0, Math.floor(Math.min(...ys)) - 2);
    const right = Math.min(img.width, Math.ceil(Math.max(...xs)) + 2);
    const bottom = Math.min(img.height, Math.ceil(Math.max(...ys)) + 2);
    if (right - left < 2 || bottom - top < 2) return warpBilinear(img, outToImg, size);
    const factor = scale / 1.2;
    const region = { left, top, width: right - left, height: bottom - top };
    const small = await shrinkRegion(img, region, factor);
    const fx = small.width / region.width, fy = small.height / region.height;
    const f = (fx + fy) / 2;
    outToImg = { a: outToImg.a * f, b: outToImg.b * f, tx: (outToImg.tx - left) * f, ty: (outToImg.ty - top) * f };
    return warpBilinear(small, outToImg, size);
  }

  async #embed(crops: Float32Array[]): Promise<Float32Array[]> {
    const spec = this.source.embedder;
    const size = spec.inputSize;
    const per = size * size * 3;
    const input = new Float32Array(per * crops.length);
    crops.forEach((crop, k) => input.set(normalise(crop, size, spec.layout, spec.mean, spec.std), k * per));
    const dims = spec.layout === 'nhwc' ? [crops.length, size, size, 3] : [crops.length, 3, size, size];
    this.#checkOpen();
    const all = await this.embedder.run(input, dims);
    const dim = spec.embeddingDim;
    if (all.length !== dim * crops.length) {
      throw new LabError('LAB-E144', { detail: t(`嵌入维度应为 ${dim}`, `the embedding should have ${dim} dimensions`) });
    }
    return crops.map((_, k) => l2normalise(all.slice(k * dim, (k + 1) * dim)));
  }

  async #runSession(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    this.#checkOpen();
    try {
      return await session.run(feeds);
    } catch (cause) {
      throw new LabError('LAB-E144', { cause });
    }
  }
}

function outputData(result: ort.InferenceSession.ReturnType, name: string): Float32Array {
  const tensor = result[name];
  if (!tensor || !(tensor.data instanceof Float32Array)) {
    throw new LabError('LAB-E144', { detail: t(`模型没有输出 ${name}`, `the model has no float output ${name}`) });
  }
  return tensor.data;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** RGB bytes (interleaved) → normalised float input in the model's layout. */
function toTensorData(pixels: Uint8Array, size: number, layout: 'nhwc' | 'nchw', mean: readonly number[], std: readonly number[]): Float32Array {
  const f = new Float32Array(size * size * 3);
  for (let i = 0; i < f.length; i++) f[i] = pixels[i] ?? 0;
  return normalise(f, size, layout, mean, std);
}

function normalise(rgb: Float32Array, size: number, layout: 'nhwc' | 'nchw', mean: readonly number[], std: readonly number[]): Float32Array {
  const n = size * size;
  const out = new Float32Array(n * 3);
  const m0 = mean[0] ?? 0, m1 = mean[1] ?? 0, m2 = mean[2] ?? 0;
  const s0 = 1 / (std[0] ?? 1), s1 = 1 / (std[1] ?? 1), s2 = 1 / (std[2] ?? 1);
  if (layout === 'nhwc') {
    for (let i = 0; i < n; i++) {
      out[3 * i] = ((rgb[3 * i] ?? 0) - m0) * s0;
      out[3 * i + 1] = ((rgb[3 * i + 1] ?? 0) - m1) * s1;
      out[3 * i + 2] = ((rgb[3 * i + 2] ?? 0) - m2) * s2;
    }
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = ((rgb[3 * i] ?? 0) - m0) * s0;
      out[n + i] = ((rgb[3 * i + 1] ?? 0) - m1) * s1;
      out[2 * n + i] = ((rgb[3 * i + 2] ?? 0) - m2) * s2;
    }
  }
  return out;
}

function l2normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  return v.map((x) => x * k);
}
