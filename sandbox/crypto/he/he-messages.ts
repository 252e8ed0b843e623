import { z } from 'zod';
import { LabError, t } from '../../errors/index.ts';
import type { BfvParams } from './bfv-context.ts';
import type { GroupSumShape } from './group-sum-layout.ts';

/**
 * The messages of the grouped intersection-sum, as the coordinator relays them: opaque bytes.
 * A message carries public facts (job, session, parameters, sizes) and SEAL-serialised public
 * objects: the key holder's public key and ciphertexts under it. There is no field, and no code
 * path, that serialises a secret key.
 *
 * Frame: "LHE" 0x01 · u32 LE header length · header (JSON, UTF-8) · the blobs, back to back, with
 * their lengths in the header. Decoding checks every length and the header's shape.
 */
export const HE_SETUP = 'he-group-sum/setup';
export const HE_ROWS = 'he-group-sum/rows';
export const HE_RESULT = 'he-group-sum/result';

interface Envelope {
  readonly jobId: string;
  /** Random per key-holder session: binds the rows and the result to one set of keys. */
  readonly sessionId: string;
}

/** Key holder → summing party: parameters, shape, and the public key (for re-randomisation). */
export interface HeSetupMessage extends Envelope {
  readonly kind: typeof HE_SETUP;
  readonly params: BfvParams;
  readonly shape: GroupSumShape;
  readonly publicKey: Uint8Array;
}

/** Key holder → summing party: ciphertexts firstCiphertext, firstCiphertext + 1, … (seeded, symmetric). */
export interface HeRowsMessage extends Envelope {
  readonly kind: typeof HE_ROWS;
  readonly firstCiphertext: number;
  readonly ciphertexts: readonly Uint8Array[];
}

/** Summing party → key holder: the one masked, flooded, re-randomised result ciphertext. */
export interface HeResultMessage extends Envelope {
  readonly kind: typeof HE_RESULT;
  readonly statisticalSecurityBits: number;
  readonly floodBits: number;
  readonly ciphertext: Uint8Array;
}

export type HeMessage = HeSetupMessage | HeRowsMessage | HeResultMessage;

const id = z.string().min(1).max(200);
const count = z.number().int().nonnegative();
const envelope = { jobId: id, sessionId: z.string().regex(/^[0-9a-f]{32}$/), blobs: z.array(count) };
const headerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal(HE_SETUP), ...envelope,
    params: z.strictObject({
      scheme: z.literal('bfv'), polyModulusDegree: count, coeffModulusBits: z.array(count).max(16),
      plainModulusBits: count, plainModulus: z.string().regex(/^[1-9][0-9]{0,30}$/), securityBits: count,
    }),
    shape: z.strictObject({ groups: count, positions: count, maxRows: count.max(Number.MAX_SAFE_INTEGER), maxValue: count.max(Number.MAX_SAFE_INTEGER) }),
  }),
  z.strictObject({ kind: z.literal(HE_ROWS), ...envelope, firstCiphertext: count }),
  z.strictObject({ kind: z.literal(HE_RESULT), ...envelope, statisticalSecurityBits: count, floodBits: count }),
]);

const MAGIC = [0x4c, 0x48, 0x45, 0x01] as const;

export function encodeHeMessage(m: HeMessage): Uint8Array {
  let header: Record<string, unknown>;
  let blobs: readonly Uint8Array[];
  switch (m.kind) {
    case HE_SETUP:
      header = { kind: m.kind, jobId: m.jobId, sessionId: m.sessionId, params: m.params, shape: m.shape };
      blobs = [m.publicKey];
      break;
    case HE_ROWS:
      header = { kind: m.kind, jobId: m.jobId, sessionId: m.sessionId, firstCiphertext: m.firstCiphertext };
      blobs = m.ciphertexts;
      break;
    case HE_RESULT:
      header = { kind: m.kind, jobId: m.jobId, sessionId: m.sessionId, statisticalSecurityBits: m.statisticalSecurityBits, floodBits: m.floodBits };
      blobs = [m.ciphertext];
      break;
  }
  const head = Buffer.from(JSON.stringify({ ...header, blobs: blobs.map((b) => b.byteLength) }), 'utf8');
  const out = new Uint8Array(8 + head.byteLength + blobs.reduce((a, b) => a + b.byteLength, 0));
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, head.byteLength, true);
  out.set(head, 8);
  let at = 8 + head.byteLength;
  for (const b of blobs) { out.set(b, at); at += b.byteLength; }
  return out;
}

const malformed = (en: string, zh: string, cause?: unknown): LabError =>
  new LabError('LAB-E114', { detail: t(zh, en), cause });

/** Parses and checks a frame; blobs are views into `bytes` (no copy). */
export function decodeHeMessage(bytes: Uint8Array): HeMessage {
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw malformed('not an HE protocol frame', '不是同态协议消息');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + headLength > bytes.byteLength) throw malformed('truncated header', '消息头不完整');
  let parsed: z.infer<typeof headerSchema>;
  try {
    parsed = headerSchema.parse(JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headLength).toString('utf8')));
  } catch (cause) {
    throw malformed('bad header', '消息头格式错误', cause);
  }
  let at = 8 + headLength;
  const blobs: Uint8Array[] = [];
  for (const len of parsed.blobs) {
    if (at + len > bytes.byteLength) throw malformed('truncated body', '消息体不完整');
    blobs.push(bytes.subarray(at, at + len));
    at += len;
  }
  if (at !== bytes.byteLength) throw malformed('trailing bytes', '消息末尾有多余数据');
  const { blobs: _lengths, ...h } = parsed;
  switch (h.kind) {
    case HE_SETUP: {
      const [publicKey] = blobs;
      if (!publicKey || blobs.length !== 1) throw malformed('a setup message carries exactly one public key', '初始化消息须且仅须携带一个公钥');
      return { ...h, publicKey };
    }
    case HE_ROWS:
      return { ...h, ciphertexts: blobs };
    case HE_RESULT: {
      const [ciphertext] = blobs;
      if (!ciphertext || blobs.length !== 1) throw malformed('a result message carries exactly one ciphertext', '结果消息须且仅须携带一个密文');
      return { ...h, ciphertext };
    }
  }
}
