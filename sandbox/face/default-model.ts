import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError, t } from '../errors/index.ts';
import type { DetectorSpec, EmbedderSpec } from './face-config.ts';
import type { FaceModelSource } from './face-engine.ts';
import { convertTfjsModel, readTfjsModel } from './tfjs-to-onnx/index.ts';

/**
 * MediaPipe BlazeFace as shipped in @vladmandic/human (the 256×256 "back camera" variant: 896 anchors,
 * 16×16×2 then 8×8×6; inputs scaled to −1…1).
 */
export const BLAZEFACE_SPEC: DetectorSpec = {
  inputSize: 256,
  layout: 'nhwc',
  mean: [127.5, 127.5, 127.5],
  std: [127.5, 127.5, 127.5],
  scores: ['Identity', 'Identity_1'],
  regressors: ['Identity_2', 'Identity_3'],
  anchorStrides: [16, 32],
  anchorsPerCell: [2, 6],
};

/**
 * HSE FaceRes (MobileNet v1 on VGGFace2) as shipped in @vladmandic/human: RGB 0…255, 224×224, the
 * 1024-d global-pooling output as the descriptor. The alignment template (right eye, left eye, nose,
 * mouth) is the ArcFace 112×112 template shrunk about its centre to leave the margin the network saw
 * in training (chosen on the package photos, docs/face.md).
 */
export const FACERES_SPEC: EmbedderSpec = {
  inputSize: 224,
  layout: 'nhwc',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  output: 'global_pooling/Mean',
  embeddingDim: 1024,
  alignTemplate: shrinkTemplate(0.75),
};

/** The ArcFace template as fractions of the side, shrunk about (0.5, 0.5) by `k`, then moved down by `dy`. */
export function shrinkTemplate(k: number, dy = 0): [[number, number], [number, number], [number, number], [number, number]] {
  const arc: [number, number][] = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [56.1396, 92.2848]];
  const p = arc.map(([x, y]) => [0.5 + (x / 112 - 0.5) * k, 0.5 + (y / 112 - 0.5) * k + dy] as [number, number]);
  return [p[0] ?? [0, 0], p[1] ?? [0, 0], p[2] ?? [0, 0], p[3] ?? [0, 0]];
}

/** Cosine threshold of the default pair (measured: docs/face.md). */
export const DEFAULT_MATCH_THRESHOLD = 0.6;

/** The folder of @vladmandic/human (its package.json does not export `models/`, so it is found on disk). */
export function humanPackageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', '@vladmandic', 'human');
    if (existsSync(join(candidate, 'models', 'blazeface.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new LabError('LAB-E143', { detail: t('找不到 @vladmandic/human 的模型文件', 'the @vladmandic/human model files are not installed') });
}

let cached: Promise<FaceModelSource> | undefined;

/** The npm-shipped pair converted to ONNX in memory (once per process; about a second). */
export function defaultFaceModel(): Promise<FaceModelSource> {
  cached ??= Promise.resolve().then(() => {
    const dir = humanPackageDir();
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
    const detector = convertTfjsModel(readTfjsModel(join(dir, 'models', 'blazeface.json')), { outputs: BLAZEFACE_SPEC.scores.concat(BLAZEFACE_SPEC.regressors), name: 'blazeface' });
    const embedder = convertTfjsModel(readTfjsModel(join(dir, 'models', 'faceres.json')), { outputs: [FACERES_SPEC.output], name: 'faceres' });
    return {
      // A model id the comparison library takes as it is (lower-case letters, digits, . _ -; see face-config.ts).
      id: `human-${version}-blazeface-faceres`,
      matchThreshold: DEFAULT_MATCH_THRESHOLD,
      detector: BLAZEFACE_SPEC,
      embedder: FACERES_SPEC,
      detectorBytes: detector.onnx,
      embedderBytes: embedder.onnx,
    };
  });
  cached.catch(() => { cached = undefined; });
  return cached;
}
