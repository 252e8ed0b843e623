import { LabError, t } from '../../errors/index.ts';
import { sessionTag, type PsiMode, type PsiRole } from './psi-message.ts';
import type { PsiItem } from './psi-party.ts';
import type { PsiReceiverResult, PsiSenderResult } from './psi.protocol.ts';
import { secureRandomKey, sodium, wipeSecure } from './sodium.ts';

/**
 * Bucketed PSI: both domains split their items by a keyed hash into B buckets, and bucket j of one
 * side meets only bucket j of the other, as an independent PSI session (`bucket: j`): separate
 * queue jobs that any worker of each domain may take. Equal items fall in the same bucket, so the
 * union of the buckets' intersections is the intersection.
 *
 * The bucket key is agreed between the two domains by an X25519 exchange relayed by the coordinator
 * (which sees only the public keys), so the coordinator cannot compute an item's bucket. What
 * bucketing leaks beyond the plain PSI (docs/protocols.md): the size of each bucket's list (hidden
 * by padding every bucket to the largest, the default) and, in cardinality mode, the receiver
 * learns the intersection size per bucket, i.e. per subset of its own items — hence a minimum of
 * items per bucket for cardinality (LAB-E108).
 */
export const BUCKET_MAGIC = 'LPSK';
export const DEFAULT_MIN_ITEMS_PER_BUCKET = 10_000;
const KX_BYTES = 4 + 1 + 1 + 16 + 32;

/** One side of the bucket-key agreement for one job. */
export class BucketKeyExchange {
  #secret: Buffer;
  readonly publicKey = new Uint8Array(32);

  private constructor(readonly session: string, readonly role: PsiRole) {
    this.#secret = secureRandomKey();
    sodium.crypto_scalarmult_base(this.publicKey, this.#secret);
  }

  static create(session: string, role: PsiRole): BucketKeyExchange {
    return new BucketKeyExchange(session, role);
  }

  /** The message to relay to the other domain: magic, version, role, session tag, public key. */
  message(): Uint8Array {
    const m = new Uint8Array(KX_BYTES);
    m.set(new TextEncoder().encode(BUCKET_MAGIC), 0);
    m[4] = 1;
    m[5] = this.role === 'receiver' ? 1 : 2;
    m.set(sessionTag(this.session), 6);
    m.set(this.publicKey, 22);
    return m;
  }

  /** The bucket key (32 bytes in secure memory; wipe it with `wipeSecure` when the job ends). Wipes the exchange's secret. */
  derive(peerMessage: Uint8Array): Buffer {
    if (this.#secret.byteLength === 0) throw new LabError('LAB-E105', { detail: t('桶密钥交换已结束', 'the bucket key exchange is over') });
    if (peerMessage.length !== KX_BYTES || new TextDecoder().decode(peerMessage.subarray(0, 4)) !== BUCKET_MAGIC || peerMessage[4] !== 1) {
      throw new LabError('LAB-E100', { detail: t('桶密钥交换消息格式错误', 'malformed bucket key message') });
    }
    const tag = sessionTag(this.session);
    if (!tag.every((b, i) => b === peerMessage[6 + i])) throw new LabError('LAB-E101', { detail: t('桶密钥交换消息属于另一会话', 'the bucket key message belongs to another session') });
    const peerRole = peerMessage[5] === 1 ? 'receiver' : peerMessage[5] === 2 ? 'sender' : undefined;
    if (peerRole === undefined || peerRole === this.role) throw new LabError('LAB-E103', { detail: t('桶密钥交换消息来自错误的一方', 'the bucket key message comes from the wrong side') });
    const peerKey = peerMessage.subarray(22, 54);
    const shared = sodium.sodium_malloc(32);
    try {
      try {
        sodium.crypto_scalarmult(shared, this.#secret, peerKey);
      } catch {
        throw new LabError('LAB-E102', { detail: t('对方的公钥阶过小', 'the peer\u2019s public key is of low order') });
      }
      const [rk, sk] = this.role === 'receiver' ? [this.publicKey, peerKey] : [peerKey, this.publicKey];
      const input = new Uint8Array([...new TextEncoder().encode('DataLab-PSI-bucket-v1'), ...tag, ...rk, ...sk]);
      const key = sodium.sodium_malloc(32);
      sodium.crypto_generichash(key, input, shared);
      return key;
    } finally {
      wipeSecure(shared);
      wipeSecure(this.#secret);
    }
  }

  close(): void { wipeSecure(this.#secret); }
}

const ENCODER = new TextEncoder();

/** The bucket of an item: BLAKE2b keyed with the bucket key, scaled to [0, B). */
export function bucketOf(item: PsiItem, key: Uint8Array, bucketCount: number): number {
  const out = new Uint8Array(16);
  sodium.crypto_generichash(out, typeof item === 'string' ? ENCODER.encode(item) : item, key);
  const h = (out[0]! | (out[1]! << 8) | (out[2]! << 16) | (out[3]! << 24)) >>> 0;
  return Math.floor((h * bucketCount) / 0x1_0000_0000);
}

export interface BucketPartition {
  readonly bucketCount: number;
  /** Per bucket: its items, and their rows in the caller's input. */
  readonly items: readonly (readonly PsiItem[])[];
  readonly rows: readonly Uint32Array[];
  /** The list size every bucket is padded to (the largest bucket), or undefined without padding. */
  readonly padTo: number | undefined;
}

export interface PartitionOptions {
  readonly mode: PsiMode;
  /** Pad every bucket's list to the largest bucket (default true): hides the bucket sizes. */
  readonly pad?: boolean;
  /** Cardinality mode only: refuse buckets with fewer items on average (default 10 000). */
  readonly minItemsPerBucket?: number;
}

export function partitionItems(items: readonly PsiItem[], key: Uint8Array, bucketCount: number, options: PartitionOptions): BucketPartition {
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 65536) {
    throw new LabError('LAB-E106', { detail: t('桶数须为 1–65536 的整数', 'the bucket count must be a whole number from 1 to 65536'), field: 'bucketCount' });
  }
  const min = options.minItemsPerBucket ?? DEFAULT_MIN_ITEMS_PER_BUCKET;
  if (options.mode === 'cardinality' && bucketCount > 1 && items.length / bucketCount < min) {
    throw new LabError('LAB-E108', {
      detail: t(`每桶平均不足 ${min} 项：接收方会得知每桶的交集大小`, `fewer than ${min} items per bucket on average: the receiver would learn each bucket's intersection size`),
      field: 'bucketCount',
    });
  }
  const counts = new Uint32Array(bucketCount);
  const of = new Uint32Array(items.length);
  for (let r = 0; r < items.length; r++) { const b = bucketOf(items[r]!, key, bucketCount); of[r] = b; counts[b]!++; }
  const rows = Array.from(counts, (c) => new Uint32Array(c));
  const fill = new Uint32Array(bucketCount);
  for (let r = 0; r < items.length; r++) { const b = of[r]!; rows[b]![fill[b]!++] = r; }
  const bucketItems = rows.map((rs) => Array.from(rs, (r) => items[r]!));
  const padTo = options.pad === false ? undefined : Math.max(0, ...counts);
  return { bucketCount, items: bucketItems, rows, padTo };
}

export interface CombinedReceiverResult {
  readonly intersectionSize: number;
  /** Membership mode: per row of the caller's whole input. */
  readonly rowIsMember?: Uint8Array;
  readonly perBucket: readonly PsiReceiverResult[];
}

/** The receiver's results of every bucket, as one result over its whole input. */
export function combineReceiverResults(partition: BucketPartition, results: readonly PsiReceiverResult[]): CombinedReceiverResult {
  if (results.length !== partition.bucketCount) throw new LabError('LAB-E103', { detail: t('缺少某些桶的结果', 'results of some buckets are missing') });
  const intersectionSize = results.reduce((s, r) => s + r.intersectionSize, 0);
  if (results.some((r) => r.mode !== 'membership')) return { intersectionSize, perBucket: results };
  const total = partition.rows.reduce((s, r) => s + r.length, 0);
  const rowIsMember = new Uint8Array(total);
  results.forEach((res, b) => {
    const rows = partition.rows[b]!;
    rows.forEach((row, k) => { rowIsMember[row] = res.rowIsMember![k]!; });
  });
  return { intersectionSize, rowIsMember, perBucket: results };
}

export interface CombinedSenderResult {
  readonly ownItems: number;
  /** Per bucket: for each position of that bucket's list, the row of the caller's whole input (−1 = dummy). */
  readonly rowOfPosition: readonly Int32Array[];
  readonly perBucket: readonly PsiSenderResult[];
}

/** The sender's results of every bucket, with rows mapped back to its whole input. */
export function combineSenderResults(partition: BucketPartition, results: readonly PsiSenderResult[]): CombinedSenderResult {
  if (results.length !== partition.bucketCount) throw new LabError('LAB-E103', { detail: t('缺少某些桶的结果', 'results of some buckets are missing') });
  return {
    ownItems: results.reduce((s, r) => s + r.ownItems, 0),
    rowOfPosition: results.map((res, b) => res.rowOfPosition.map((r) => (r < 0 ? -1 : partition.rows[b]![r]!))),
    perBucket: results,
  };
}
