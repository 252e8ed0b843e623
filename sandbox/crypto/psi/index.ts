/** ECDH-PSI (docs/protocols.md, "ECDH-PSI"): the public entry of sandbox/crypto/psi. */
export { PsiReceiver, PsiSender, type PsiReceiverResult, type PsiSenderResult, type PsiSessionOptions } from './psi.protocol.ts';
export { PsiParty, type PsiItem, type PsiWipeReport } from './psi-party.ts';
export { PsiPool } from './psi-pool.ts';
export { runPsiLocally, type LocalPsiOptions, type LocalPsiRun } from './psi-local.ts';
export {
  BucketKeyExchange, bucketOf, partitionItems, combineReceiverResults, combineSenderResults, DEFAULT_MIN_ITEMS_PER_BUCKET,
  type BucketPartition, type PartitionOptions, type CombinedReceiverResult, type CombinedSenderResult,
} from './psi-bucket.ts';
export { HashToCurve, DEFAULT_SUITE, HASH_SUITES, PSI_DST, packItems, type HashSuite, type PackedItems } from './hash-to-curve.ts';
export {
  decodePsiMessage, DEFAULT_MAX_MESSAGE_BYTES, PSI_HEADER_BYTES, POINT_BYTES,
  type PsiMessage, type PsiMessageHeader, type PsiMessageKind, type PsiMode, type PsiRole,
} from './psi-message.ts';
