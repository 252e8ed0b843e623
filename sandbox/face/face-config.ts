import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { LabError, t } from '../errors/index.ts';

const triple = z.tuple([z.number(), z.number(), z.number()]);
const point = z.tuple([z.number(), z.number()]);

/**
 * The detector: a BlazeFace-style single-shot detector (anchors on a grid, per anchor one logit and
 * 4 box + 2×6 keypoint regressions in input pixels, MediaPipe's layout). `scores`/`regressors` name its
 * outputs, one pair per anchor layer, in the order the anchors are generated.
 */
export const detectorSpec = z.object({
  inputSize: z.number().int().min(32).max(1024),
  layout: z.enum(['nhwc', 'nchw']),
  /** Input value = (pixel − mean) / std per RGB channel, pixel in 0…255. */
  mean: triple,
  std: triple,
  inputName: z.string().min(1).optional(),
  scores: z.array(z.string().min(1)).min(1),
  regressors: z.array(z.string().min(1)).min(1),
  anchorStrides: z.array(z.number().int().positive()).min(1),
  anchorsPerCell: z.array(z.number().int().positive()).min(1),
}).strict();

/** The embedder: an aligned RGB face crop in, one descriptor out. */
export const embedderSpec = z.object({
  inputSize: z.number().int().min(32).max(1024),
  layout: z.enum(['nhwc', 'nchw']),
  mean: triple,
  std: triple,
  inputName: z.string().min(1).optional(),
  output: z.string().min(1),
  embeddingDim: z.number().int().min(8).max(8192),
  /**
   * Where the aligned crop puts the right eye, left eye, nose tip and mouth centre, as fractions of the
   * crop side (the subject's right eye is on the image's left).
   */
  alignTemplate: z.tuple([point, point, point, point]),
}).strict();

export type DetectorSpec = z.infer<typeof detectorSpec>;
export type EmbedderSpec = z.infer<typeof embedderSpec>;

/** A face model id, as the comparison library takes it (sandbox/crypto/face-match/templates.ts). */
export const FACE_MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A model directory (`LAB_FACE_MODEL_DIR`): `face-model.json` with this shape beside the two ONNX files. */
export const modelDirManifest = z.object({
  /**
   * The model id stored beside every template: 1–64 lower-case letters, digits, `.`, `_`, `-` — the same
   * rule as sandbox/crypto/face-match (`checkModelId`), which this folder may not import.
   */
  id: z.string().regex(FACE_MODEL_ID, 'a model id is 1–64 lower-case letters, digits or . _ - (e.g. my-arcface-r50)'),
  matchThreshold: z.number().min(-1).max(1),
  detector: detectorSpec.extend({ file: z.string().min(1) }).strict(),
  embedder: embedderSpec.extend({ file: z.string().min(1) }).strict(),
}).strict();

export const qualityGates = z.object({
  /** Detector score a face must reach to count at all. */
  minScore: z.number().min(0).max(1).default(0.6),
  /** A second face counts (→ several-faces) when its box is at least this fraction of the largest's width. */
  secondFaceRatio: z.number().min(0).max(1).default(0.4),
  /** Minimum width of the detector's face box, image pixels (the embedder's crop is 224 px wide). */
  minFaceWidth: z.number().min(0).default(64),
  /** Largest accepted |yaw| and |pitch| estimates, degrees (rough estimates: docs/face.md). */
  maxYaw: z.number().min(0).max(90).default(40),
  maxPitch: z.number().min(0).max(90).default(25),
  /** Minimum variance of the Laplacian on the aligned grey crop. */
  minSharpness: z.number().min(0).default(12),
}).strict();

export type QualityGates = z.infer<typeof qualityGates>;

export const faceEngineConfig = z.object({
  /** A model directory (see `modelDirManifest`); default: `LAB_FACE_MODEL_DIR`, else the converted npm-shipped pair. */
  modelDir: z.string().min(1).optional(),
  limits: z.object({
    maxBytes: z.number().int().positive().default(15 * 1024 * 1024),
    maxPixels: z.number().int().positive().default(40_000_000),
  }).strict().prefault({}),
  gates: qualityGates.prefault({}),
  /** Overrides the model's own match threshold. */
  matchThreshold: z.number().min(-1).max(1).optional(),
  /**
   * ONNX Runtime intra-op threads per session. The detector and the embedder sessions run at the same
   * time in `analyseMany`, so 1 each uses the 2 cores of the lab's machines.
   */
  threads: z.number().int().min(1).max(64).default(1),
  /** Largest embedder batch in `analyseMany`. */
  batchSize: z.number().int().min(1).max(256).default(8),
}).strict();

export type FaceEngineConfigInput = z.input<typeof faceEngineConfig>;
export type FaceEngineConfig = z.infer<typeof faceEngineConfig>;

export function parseFaceEngineConfig(input: unknown): FaceEngineConfig {
  const parsed = faceEngineConfig.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new LabError('LAB-E142', {
      detail: t(`${where} ${issue?.message ?? ''}`.trim(), `${where} ${issue?.message ?? ''}`.trim()),
      ...(where ? { field: where } : {}),
    });
  }
  return parsed.data;
}

export interface LoadedModelDir {
  readonly id: string;
  readonly matchThreshold: number;
  readonly detector: DetectorSpec;
  readonly embedder: EmbedderSpec;
  readonly detectorBytes: Uint8Array;
  readonly embedderBytes: Uint8Array;
}

/** Reads `face-model.json` and the two ONNX files it names from a model directory. */
export function loadModelDir(dir: string): LoadedModelDir {
  const manifestPath = join(dir, 'face-model.json');
  if (!existsSync(manifestPath)) {
    throw new LabError('LAB-E142', { detail: t(`模型目录中没有 face-model.json：${dir}`, `no face-model.json in the model directory ${dir}`), field: 'modelDir' });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (cause) {
    throw new LabError('LAB-E142', { detail: t('face-model.json 不是有效的 JSON', 'face-model.json is not valid JSON'), field: 'modelDir', cause });
  }
  const parsed = modelDirManifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new LabError('LAB-E142', { detail: t(`face-model.json：${where} ${issue?.message ?? ''}`, `face-model.json: ${where} ${issue?.message ?? ''}`), field: 'modelDir' });
  }
  const m = parsed.data;
  const read = (file: string): Uint8Array => {
    const p = isAbsolute(file) ? file : join(dir, file);
    if (!existsSync(p)) throw new LabError('LAB-E142', { detail: t(`模型文件不存在：${p}`, `model file missing: ${p}`), field: 'modelDir' });
    return new Uint8Array(readFileSync(p));
  };
  const { file: detectorFile, ...detector } = m.detector;
  const { file: embedderFile, ...embedder } = m.embedder;
  return { id: m.id, matchThreshold: m.matchThreshold, detector, embedder, detectorBytes: read(detectorFile), embedderBytes: read(embedderFile) };
}
