/**
 * Encrypted face comparison across domains (CKKS, SEAL 4.1 via node-seal 6.0.3). README.md in this
 * folder; the protocol is in docs/protocols.md, "Face comparison (CKKS)".
 */
export {
  CKKS_PARAMS, COEFF_MODULUS_BITS, MASK_BITS, POLY_MODULUS_DEGREE, PROBE_SCALE_BITS, REFERENCE_SCALE_BITS, SECURITY_BITS,
  STATISTICAL_SECURITY_BITS, ckksContext, type CkksParams,
} from './ckks-context.ts';
export { planComparison, type ComparisonPlan } from './comparison-plan.ts';
export {
  DEFAULT_MAX_MESSAGE_BYTES, FM_ACCEPT, FM_PROBES, FM_RESULT, FM_SETUP, decodeFmMessage, encodeFmMessage,
  type FmAccept, type FmMessage, type FmProbes, type FmResult, type FmSetup,
} from './messages.ts';
export {
  FaceProbeHolder, FaceReferenceHolder, MAX_GROUPS_PER_SESSION, maxComparisonsPerSession, openProbeHolder, openReferenceHolder,
  type FaceOutcome, type Probe, type ProbeJob, type ReferenceHolderOptions, type ReferenceLookup, type ReferenceSummary, type ReferenceTemplate,
} from './face-match.protocol.ts';
export { compareBatch, type BatchComparison, type BatchTiming } from './batch.ts';
export {
  MAX_DIMENSION, SYNTHETIC_DIMENSION, SYNTHETIC_MODEL_ID, SYNTHETIC_THRESHOLD, cosineInt8, plaintextDecision, quantizeTemplate,
  templateFromBytes, templateToBytes, unitVector,
} from './templates.ts';
