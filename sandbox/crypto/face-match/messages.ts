import { LabError, t } from '../../errors/index.ts';
import type { CkksParams } from './ckks-context.ts';

/**
 * The messages of the encrypted face comparison, as the coordinator relays them: opaque bytes.
 *
 * Frame: "LFM" 0x01 · u32 LE header length · header (JSON, UTF-8) · the blobs back to back, their
 * lengths listed in the header. Decoding refuses anything but the exact fields of the kind (no
 * extra, none missing, every type and range checked), every blob length that does not add up,
 * trailing bytes, and a frame over the size limit.
 *
 *   probe holder P                                 reference holder R
 *   setup: params, model, D, count, τ,   ───────▶
 *          Galois keys, public key, X25519 key
 *                                        ◀───────  accept: X25519 key
 *   probes #b: sealed lookup keys,       ───────▶
 *              k CKKS ciphertexts (a group)
 *                                        ◀───────  result #b: sealed status bytes,
 *                                                           one flooded CKKS ciphertext
 *
 * Lookup keys and status bytes are sealed with AES-256-GCM under keys only P and R can derive
 * (key-channel.ts): the coordinator sees sizes, counts and public parameters only.
 */
export const FM_SETUP = 'face-match/setup';
export const FM_ACCEPT = 'face-match/accept';
export const FM_PROBES = 'face-match/probes';
export const FM_RESULT = 'face-match/result';
export const FM_VERSION = 1;
/** Default upper bound of one message (the setup with 11 Galois keys for 2048-d is ≈ 9 MB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** The most ciphertexts of one group (a 4096-d template in chunks of 64). */
export const MAX_CIPHERTEXTS_PER_GROUP = 64;
/** The most comparisons one session takes. */
export const MAX_COMPARISONS = 1 << 20;

interface Envelope {
  readonly jobId: string;
  /** 32 hex characters, random per probe-holder session. */
  readonly session: string;
}

export interface FmSetup extends Envelope {
  readonly kind: typeof FM_SETUP;
  readonly params: CkksParams;
  readonly modelId: string;
  readonly dimension: number;
  readonly threshold: number;
  readonly comparisons: number;
  readonly batches: number;
  readonly galoisKeys: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly channelKey: Uint8Array;
}

export interface FmAccept extends Envelope {
  readonly kind: typeof FM_ACCEPT;
  readonly channelKey: Uint8Array;
}

export interface FmProbes extends Envelope {
  readonly kind: typeof FM_PROBES;
  readonly batch: number;
  readonly count: number;
  readonly sealedKeys: Uint8Array;
  /** The group's k ciphertexts, chunk by chunk. */
  readonly ciphertexts: readonly Uint8Array[];
}

export interface FmResult extends Envelope {
  readonly kind: typeof FM_RESULT;
  readonly batch: number;
  readonly count: number;
  readonly floodBits: number;
  readonly sealedStatus: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export type FmMessage = FmSetup | FmAccept | FmProbes | FmResult;

const MAGIC = [0x4c, 0x46, 0x4d, 0x01] as const;

const malformed = (en: string, zh: string, cause?: unknown): LabError => new LabError('LAB-E192', { detail: t(zh, en), cause });

function tooLarge(size: number, limit: number): LabError {
  return new LabError('LAB-E196', { detail: t(`消息 ${size} 字节，上限 ${limit} 字节`, `the message has ${size} bytes, the limit is ${limit}`) });
}

export function encodeFmMessage(m: FmMessage, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Uint8Array {
  const base = { kind: m.kind, v: FM_VERSION, jobId: m.jobId, session: m.session };
  let header: Record<string, unknown>;
  let blobs: readonly Uint8Array[];
  switch (m.kind) {
    case FM_SETUP:
      header = { ...base, params: m.params, modelId: m.modelId, dimension: m.dimension, threshold: m.threshold, comparisons: m.comparisons, batches: m.batches };
      blobs = [m.galoisKeys, m.publicKey, m.channelKey];
      break;
    case FM_ACCEPT:
      header = base;
      blobs = [m.channelKey];
      break;
    case FM_PROBES:
      header = { ...base, batch: m.batch, count: m.count };
      blobs = [m.sealedKeys, ...m.ciphertexts];
      break;
    case FM_RESULT:
      header = { ...base, batch: m.batch, count: m.count, floodBits: m.floodBits };
      blobs = [m.sealedStatus, m.ciphertext];
      break;
  }
  const head = Buffer.from(JSON.stringify({ ...header, blobs: blobs.map((b) => b.byteLength) }), 'utf8');
  const size = 8 + head.byteLength + blobs.reduce((a, b) => a + b.byteLength, 0);
  if (size > maxBytes) throw tooLarge(size, maxBytes);
  const out = new Uint8Array(size);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, head.byteLength, true);
  out.set(head, 8);
  let at = 8 + head.byteLength;
  for (const b of blobs) { out.set(b, at); at += b.byteLength; }
  return out;
}

/* Strict header checks, by hand: exact key sets, types and ranges. */

type Json = Record<string, unknown>;

function exactKeys(h: Json, keys: readonly string[], what: string): void {
  const got = Object.keys(h).sort();
  const want = [...keys].sort();
  if (got.length !== want.length || got.some((k, i) => k !== want[i])) {
    throw malformed(`${what}: the header fields are not ${want.join(', ')}`, `${what}：消息头字段应为 ${want.join('、')}`);
  }
}
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
function int(h: Json, k: string, min: number, max: number): number {
  const x = h[k];
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw malformed(`field ${k} is not an integer in ${min}–${max}`, `字段 ${k} 不是 ${min}–${max} 之间的整数`);
  return x;
}
function str(h: Json, k: string, re: RegExp): string {
  const x = h[k];
  if (typeof x !== 'string' || !re.test(x)) throw malformed(`field ${k} is not well-formed`, `字段 ${k} 格式错误`);
  return x;
}

const SESSION = /^[0-9a-f]{32}$/;
const JOB = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;
const MODEL = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function params(x: unknown): CkksParams {
  if (!isObject(x)) throw malformed('params is not an object', 'params 不是对象');
  exactKeys(x, ['scheme', 'polyModulusDegree', 'coeffModulusBits', 'probeScaleBits', 'referenceScaleBits', 'maskBits', 'securityBits', 'statisticalSecurityBits'], 'params');
  if (x.scheme !== 'ckks') throw malformed('params.scheme is not ckks', 'params.scheme 不是 ckks');
  const bits = x.coeffModulusBits;
  if (!Array.isArray(bits) || bits.length > 16 || !bits.every((b) => typeof b === 'number' && Number.isInteger(b) && b > 0 && b <= 64)) {
    throw malformed('params.coeffModulusBits is not a list of prime sizes', 'params.coeffModulusBits 不是素数位数列表');
  }
  return {
    scheme: 'ckks', polyModulusDegree: int(x, 'polyModulusDegree', 1, 1 << 17), coeffModulusBits: bits as number[],
    probeScaleBits: int(x, 'probeScaleBits', 1, 1000), referenceScaleBits: int(x, 'referenceScaleBits', 1, 1000), maskBits: int(x, 'maskBits', 0, 64),
    securityBits: int(x, 'securityBits', 0, 1000), statisticalSecurityBits: int(x, 'statisticalSecurityBits', 0, 1000),
  };
}

/** Parses and checks a frame; blobs are views into `bytes` (no copy). */
export function decodeFmMessage(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): FmMessage {
  if (bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength, maxBytes);
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw malformed('not a face-comparison frame', '不是人脸比对协议消息');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + headLength > bytes.byteLength) throw malformed('truncated header', '消息头不完整');
  let h: unknown;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headLength)));
  } catch (cause) {
    throw malformed('the header is not JSON', '消息头不是 JSON', cause);
  }
  if (!isObject(h)) throw malformed('the header is not an object', '消息头不是对象');
  const lengths = h.blobs;
  if (!Array.isArray(lengths) || !lengths.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) throw malformed('bad blob lengths', '数据块长度无效');
  let at = 8 + headLength;
  const blobs: Uint8Array[] = [];
  for (const len of lengths as number[]) {
    if (at + len > bytes.byteLength) throw malformed('truncated body', '消息体不完整');
    blobs.push(bytes.subarray(at, at + len));
    at += len;
  }
  if (at !== bytes.byteLength) throw malformed('trailing bytes', '消息末尾有多余数据');
  if (h.v !== FM_VERSION) throw malformed(`unknown version ${String(h.v)}`, `未知的版本 ${String(h.v)}`);
  const env = { jobId: str(h, 'jobId', JOB), session: str(h, 'session', SESSION) };
  const common = ['kind', 'v', 'jobId', 'session', 'blobs'];
  const need = (n: number, what: string): void => {
    if (blobs.length !== n) throw malformed(`${what} carries ${n} blobs`, `${what} 须携带 ${n} 个数据块`);
  };
  switch (h.kind) {
    case FM_SETUP: {
      exactKeys(h, [...common, 'params', 'modelId', 'dimension', 'threshold', 'comparisons', 'batches'], 'setup');
      need(3, 'setup');
      const threshold = h.threshold;
      if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= -1 || threshold >= 1) throw malformed('threshold out of (−1, 1)', '阈值不在 (−1, 1) 之内');
      return {
        kind: FM_SETUP, ...env, params: params(h.params), modelId: str(h, 'modelId', MODEL), dimension: int(h, 'dimension', 1, 1 << 16), threshold,
        comparisons: int(h, 'comparisons', 1, MAX_COMPARISONS), batches: int(h, 'batches', 1, MAX_COMPARISONS),
        galoisKeys: blobs[0]!, publicKey: blobs[1]!, channelKey: blobs[2]!,
      };
    }
    case FM_ACCEPT:
      exactKeys(h, common, 'accept');
      need(1, 'accept');
      return { kind: FM_ACCEPT, ...env, channelKey: blobs[0]! };
    case FM_PROBES:
      exactKeys(h, [...common, 'batch', 'count'], 'probes');
      if (blobs.length < 2 || blobs.length > 1 + MAX_CIPHERTEXTS_PER_GROUP) throw malformed(`probes carry 2–${1 + MAX_CIPHERTEXTS_PER_GROUP} blobs`, `探针消息须携带 2–${1 + MAX_CIPHERTEXTS_PER_GROUP} 个数据块`);
      return { kind: FM_PROBES, ...env, batch: int(h, 'batch', 0, MAX_COMPARISONS), count: int(h, 'count', 1, 4096), sealedKeys: blobs[0]!, ciphertexts: blobs.slice(1) };
    case FM_RESULT:
      exactKeys(h, [...common, 'batch', 'count', 'floodBits'], 'result');
      need(2, 'result');
      return {
        kind: FM_RESULT, ...env, batch: int(h, 'batch', 0, MAX_COMPARISONS), count: int(h, 'count', 1, 4096), floodBits: int(h, 'floodBits', 1, 1000),
        sealedStatus: blobs[0]!, ciphertext: blobs[1]!,
      };
    default:
      throw malformed('unknown message kind', '未知的消息类型');
  }
}
