import { createHash } from 'node:crypto';
import { LabError, t } from '../../errors/index.ts';
import type { HashSuite } from './hash-to-curve.ts';

/**
 * The PSI's wire format. A message is one batch of one list of blinded points:
 *
 *   offset  size  field
 *        0     4  magic "LPSI"
 *        4     1  version (1)
 *        5     1  kind: 1 = blinded (the sender's own items under its key), 2 = reblinded (the peer's points under the sender's key)
 *        6     1  from: 1 = receiver, 2 = sender
 *        7     1  mode: 1 = cardinality, 2 = membership
 *        8     1  suite: 1 = RO, 2 = NU (hash-to-curve)
 *        9     3  reserved, zero
 *       12    16  session tag: first 16 bytes of SHA-256("DataLab-PSI-session-v1" ‖ session id)
 *       28     4  bucket (u32, little-endian, as every integer here)
 *       32     4  batch index
 *       36     4  batch count
 *       40     4  total points in the list
 *       44     4  index of this batch's first point in the list
 *       48  32·k  k points: X25519 u-coordinates, 32 bytes each
 *
 * Nothing else travels: no identifier, no plain hash of one, no key. The header says what the
 * coordinator must know to route and check a message (session, bucket, sizes); the list sizes
 * are the protocol's documented leakage (docs/protocols.md).
 */
export type PsiRole = 'receiver' | 'sender';
export type PsiMode = 'cardinality' | 'membership';
export type PsiMessageKind = 'blinded' | 'reblinded';

export const PSI_MAGIC = 'LPSI';
export const PSI_VERSION = 1;
export const PSI_HEADER_BYTES = 48;
export const POINT_BYTES = 32;
/** Default and limits of one message's size (header included). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
export const MIN_MAX_MESSAGE_BYTES = PSI_HEADER_BYTES + POINT_BYTES;
/** The largest list one session handles (a bucket of a larger job is a session of its own). */
export const MAX_LIST_POINTS = 2 ** 28;

export interface PsiMessageHeader {
  readonly kind: PsiMessageKind;
  readonly from: PsiRole;
  readonly mode: PsiMode;
  readonly suite: HashSuite;
  readonly sessionTag: Uint8Array;
  readonly bucket: number;
  readonly batch: number;
  readonly batches: number;
  readonly total: number;
  readonly first: number;
}

export interface PsiMessage {
  readonly header: PsiMessageHeader;
  /** count × 32 bytes, a view into the message. */
  readonly points: Uint8Array;
  readonly count: number;
}

const KINDS: readonly PsiMessageKind[] = ['blinded', 'reblinded'];
const ROLES: readonly PsiRole[] = ['receiver', 'sender'];
const MODES: readonly PsiMode[] = ['cardinality', 'membership'];
const SUITES: readonly HashSuite[] = ['RO', 'NU'];

export function sessionTag(session: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update('DataLab-PSI-session-v1').update(session, 'utf8').digest().subarray(0, 16));
}

const malformed = (en: string, zh: string): LabError => new LabError('LAB-E100', { detail: t(zh, en) });

function writeHeader(out: Uint8Array, h: PsiMessageHeader): void {
  const v = new DataView(out.buffer, out.byteOffset, PSI_HEADER_BYTES);
  out.set(new TextEncoder().encode(PSI_MAGIC), 0);
  v.setUint8(4, PSI_VERSION);
  v.setUint8(5, KINDS.indexOf(h.kind) + 1);
  v.setUint8(6, ROLES.indexOf(h.from) + 1);
  v.setUint8(7, MODES.indexOf(h.mode) + 1);
  v.setUint8(8, SUITES.indexOf(h.suite) + 1);
  out.set(h.sessionTag.subarray(0, 16), 12);
  v.setUint32(28, h.bucket, true);
  v.setUint32(32, h.batch, true);
  v.setUint32(36, h.batches, true);
  v.setUint32(40, h.total, true);
  v.setUint32(44, h.first, true);
}

/**
 * Splits a list of points into messages of at most `maxMessageBytes` each (an empty list is one
 * message with no point, so the peer learns that the list is complete).
 */
export function encodeList(
  base: Omit<PsiMessageHeader, 'batch' | 'batches' | 'total' | 'first'>,
  points: Uint8Array,
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
): Uint8Array[] {
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < MIN_MAX_MESSAGE_BYTES) {
    throw new LabError('LAB-E106', { detail: t(`单条消息上限至少 ${MIN_MAX_MESSAGE_BYTES} 字节`, `a message must be allowed at least ${MIN_MAX_MESSAGE_BYTES} bytes`), field: 'maxMessageBytes' });
  }
  const total = points.length / POINT_BYTES;
  const per = Math.floor((maxMessageBytes - PSI_HEADER_BYTES) / POINT_BYTES);
  const batches = Math.max(1, Math.ceil(total / per));
  const out: Uint8Array[] = [];
  for (let b = 0; b < batches; b++) {
    const first = b * per;
    const count = Math.min(per, total - first);
    out.push(encodeBatch({ ...base, batch: b, batches, total, first }, points.subarray(first * POINT_BYTES, (first + count) * POINT_BYTES)));
  }
  return out;
}

/** One message with the given header fields and points. */
export function encodeBatch(h: PsiMessageHeader, points: Uint8Array): Uint8Array {
  const out = new Uint8Array(PSI_HEADER_BYTES + points.length);
  writeHeader(out, h);
  out.set(points, PSI_HEADER_BYTES);
  return out;
}

/** Parses and checks a message's framing (LAB-E100). Points are checked by the party that uses them. */
export function decodePsiMessage(msg: Uint8Array): PsiMessage {
  if (!(msg instanceof Uint8Array) || msg.length < PSI_HEADER_BYTES) throw malformed('shorter than its header', '长度不足报文头');
  if (new TextDecoder().decode(msg.subarray(0, 4)) !== PSI_MAGIC) throw malformed('not a PSI message (magic)', '不是 PSI 消息（标识不符）');
  const v = new DataView(msg.buffer, msg.byteOffset, PSI_HEADER_BYTES);
  if (v.getUint8(4) !== PSI_VERSION) throw malformed(`unsupported version ${v.getUint8(4)}`, `不支持的版本 ${v.getUint8(4)}`);
  const pick = <T>(list: readonly T[], at: number, what: string): T => {
    const x = list[v.getUint8(at) - 1];
    if (x === undefined) throw malformed(`unknown ${what}`, `未知的${what}`);
    return x;
  };
  const kind = pick(KINDS, 5, 'kind');
  const from = pick(ROLES, 6, 'role');
  const mode = pick(MODES, 7, 'mode');
  const suite = pick(SUITES, 8, 'suite');
  if (msg[9] !== 0 || msg[10] !== 0 || msg[11] !== 0) throw malformed('reserved bytes are not zero', '保留字节非零');
  if ((msg.length - PSI_HEADER_BYTES) % POINT_BYTES !== 0) throw malformed('its length is not a whole number of points', '长度不是整数个点');
  const count = (msg.length - PSI_HEADER_BYTES) / POINT_BYTES;
  const bucket = v.getUint32(28, true), batch = v.getUint32(32, true), batches = v.getUint32(36, true);
  const total = v.getUint32(40, true), first = v.getUint32(44, true);
  if (total > MAX_LIST_POINTS) throw malformed('the list is larger than a session allows', '列表超出单次会话上限');
  if (batches < 1 || batch >= batches) throw malformed('batch index outside the batch count', '批次序号超出批次数');
  if (first + count > total) throw malformed('points beyond the end of the list', '点超出列表末尾');
  if (count === 0 && total > 0) throw malformed('an empty batch of a non-empty list', '非空列表中的空批次');
  if (batches > Math.max(1, total)) throw malformed('more batches than points', '批次数多于点数');
  return {
    header: { kind, from, mode, suite, sessionTag: msg.slice(12, 28), bucket, batch, batches, total, first },
    points: msg.subarray(PSI_HEADER_BYTES),
    count,
  };
}

/**
 * Collects the batches of one list into one buffer: each batch index once, the same total and
 * batch count in every batch, and at the end the batches must tile the list exactly.
 */
export class ListAssembler {
  private total = -1;
  private batches = -1;
  private readonly seen = new Map<number, { first: number; count: number }>();
  private received = 0;
  points: Uint8Array = new Uint8Array(0);

  constructor(private readonly what: string) {}

  get complete(): boolean { return this.batches >= 0 && this.seen.size === this.batches; }
  get size(): number { return this.total; }

  /** Registers a batch (before its points are processed); returns where its points go. */
  accept(m: PsiMessage): void {
    const h = m.header;
    if (this.total < 0) {
      this.total = h.total;
      this.batches = h.batches;
      this.points = new Uint8Array(h.total * POINT_BYTES);
    } else if (h.total !== this.total || h.batches !== this.batches) {
      throw new LabError('LAB-E100', { detail: t(`${this.what}的各批次总数不一致`, `the batches of ${this.what} disagree on its size`) });
    }
    if (this.seen.has(h.batch)) throw new LabError('LAB-E103', { detail: t(`${this.what}的批次 ${h.batch} 重复`, `batch ${h.batch} of ${this.what} arrived twice`) });
    this.seen.set(h.batch, { first: h.first, count: m.count });
    this.received += m.count;
    if (this.seen.size === this.batches) {
      const spans = [...this.seen.values()].sort((a, b) => a.first - b.first);
      let at = 0;
      for (const s of spans) {
        if (s.first !== at) break;
        at += s.count;
      }
      if (at !== this.total || this.received !== this.total) {
        throw new LabError('LAB-E100', { detail: t(`${this.what}的批次未恰好覆盖整个列表`, `the batches of ${this.what} do not cover the list exactly`) });
      }
    }
  }
}
