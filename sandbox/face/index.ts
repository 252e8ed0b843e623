/**
 * Face verification engine (issue 8, server side): decode → detect (BlazeFace) → quality gates → align →
 * embed (HSE FaceRes) → L2-normalised template, on onnxruntime-node and sharp. README.md in this folder;
 * the pipeline, models, licences and accuracy are in docs/face.md.
 */
export { openFaceEngine, openFaceEngineWith, faceSimilarity, type FaceModelSource } from './face-engine.ts';
export type {
  FaceAnalysis, FaceBatchItem, FaceBox, FaceEngine, FaceModelIdentity, FacePoint, FaceQuality, UnusableReason,
} from './face-types.ts';
export {
  faceEngineConfig, parseFaceEngineConfig, qualityGates,
  type DetectorSpec, type EmbedderSpec, type FaceEngineConfig, type FaceEngineConfigInput, type QualityGates,
} from './face-config.ts';
export { BLAZEFACE_SPEC, DEFAULT_MATCH_THRESHOLD, FACERES_SPEC, defaultFaceModel } from './default-model.ts';
