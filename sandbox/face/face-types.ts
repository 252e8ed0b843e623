import type { LabError } from '../errors/index.ts';

/** A rectangle in the pixels of the decoded image, after its EXIF rotation. */
export interface FaceBox { readonly x: number; readonly y: number; readonly w: number; readonly h: number }

/** A point in the pixels of the decoded image, after its EXIF rotation. */
export type FacePoint = [x: number, y: number];

/**
 * What the quality gates measured on the face that was kept. Angles in degrees (estimates from
 * the six detector keypoints, not a head-pose model); sharpness is the variance of the Laplacian
 * of the aligned grey crop (0…255 scale).
 */
export interface FaceQuality {
  /** Detector confidence, 0…1. */
  readonly score: number;
  /** Width of the detector box in image pixels. */
  readonly faceWidth: number;
  /** Distance between the eye centres in image pixels. */
  readonly eyeDistance: number;
  /** Left/right turn estimate; 0 = frontal. */
  readonly yaw: number;
  /** Up/down tilt estimate; 0 = frontal. */
  readonly pitch: number;
  /** In-plane rotation of the eye line (alignment removes it). */
  readonly roll: number;
  readonly sharpness: number;
}

export type UnusableReason = 'no-face' | 'several-faces' | 'too-small' | 'not-frontal' | 'blurred';

export type FaceAnalysis =
  | {
      readonly kind: 'face';
      /** L2-normalised embedding of the aligned face; compare with `faceSimilarity`. */
      readonly template: Float32Array;
      readonly box: FaceBox;
      /** The detector's six keypoints: right eye, left eye, nose tip, mouth, right ear, left ear (the subject's sides). */
      readonly landmarks: FacePoint[];
      readonly quality: FaceQuality;
    }
  | {
      readonly kind: 'unusable';
      readonly reason: UnusableReason;
      /** What to fix, for the person taking the photo. */
      readonly detail: { readonly zh: string; readonly en: string };
      /** Faces the detector found above its score threshold (0 for `no-face`). */
      readonly faces: number;
      /** Measurements of the main face when there was one. */
      readonly quality?: FaceQuality;
    };

/** One item of `analyseMany`: an analysis, or the LabError that `analyse` would have thrown for it. */
export type FaceBatchItem = FaceAnalysis | { readonly kind: 'rejected'; readonly error: LabError };

/** Which model pair the engine runs (for records kept beside templates: templates of two models never compare). */
export interface FaceModelIdentity {
  /**
   * e.g. `human-3.3.6-blazeface-faceres` for the default pair: 1–64 lower-case letters, digits, `.`, `_`, `-`,
   * the form sandbox/crypto/face-match takes, so templates are stored and compared under this id unchanged.
   */
  readonly id: string;
  readonly embeddingDim: number;
  /** Cosine similarity at or above which two templates are the same person, for this model. */
  readonly matchThreshold: number;
}

export interface FaceEngine {
  readonly model: FaceModelIdentity;
  /**
   * Decode, detect, check quality, align and embed one photo. Throws a LabError (LAB-E140 not an image,
   * LAB-E141 too large) for input that is not a usable image file; a photo without exactly one good face
   * is an answer (`kind: 'unusable'`), not an error.
   */
  analyse(image: Uint8Array): Promise<FaceAnalysis>;
  /** The same for many photos, the embedder run in batches; one item per input, in order. */
  analyseMany(images: readonly Uint8Array[]): Promise<FaceBatchItem[]>;
  /**
   * Every face above the detector threshold, largest first, each through the per-face gates (size, pose,
   * sharpness) and embedded when it passes — for evaluation and tests; intake uses `analyse`.
   */
  analyseEveryFace(image: Uint8Array): Promise<FaceAnalysis[]>;
  /** The aligned crops the embedder would see (RGB 0…255 interleaved, `size`×`size`), one per detected face. */
  alignedCrops(image: Uint8Array): Promise<{ crop: Float32Array; size: number; box: FaceBox }[]>;
  /** Releases the ONNX sessions; later calls throw LAB-E145. */
  close(): Promise<void>;
}
