/**
 * Homomorphic aggregation across domains (BFV, SEAL 4.1 via node-seal 6.0.3): the grouped
 * intersection-sum that runs after the ECDH-PSI step. README.md in this folder; the protocol is in
 * docs/protocols.md, "Grouped intersection-sum (BFV)".
 */
export {
  bfvContext, COEFF_MODULUS_BITS, DEFAULT_PLAIN_MODULUS_BITS, POLY_MODULUS_DEGREE, SECURITY_BITS,
  type BfvContext, type BfvParams,
} from './bfv-context.ts';
export { MAX_GROUPS, planGroupSumLayout, type FieldPlace, type GroupSumLayout, type GroupSumShape } from './group-sum-layout.ts';
export {
  decodeHeMessage, encodeHeMessage, HE_RESULT, HE_ROWS, HE_SETUP,
  type HeMessage, type HeResultMessage, type HeRowsMessage, type HeSetupMessage,
} from './he-messages.ts';
export { planFlood, STATISTICAL_SECURITY_BITS, type FloodPlan } from './noise-flood.ts';
export {
  GroupSumKeyHolder, GroupSumSummer, openKeyHolder, openSummer,
  type GroupSumJob, type GroupSumRows, type GroupTotal, type KeyHolderView,
} from './group-sum.protocol.ts';
export { loadSeal } from './seal-module.ts';
