import { randomBytes } from 'node:crypto';
import { LabError, t } from '../../errors/index.ts';
import { DEFAULT_SUITE, packItems, type HashSuite } from './hash-to-curve.ts';
import { PointIndex, wordsOf } from './point-index.ts';
import {
  DEFAULT_MAX_MESSAGE_BYTES, ListAssembler, MAX_LIST_POINTS, MIN_MAX_MESSAGE_BYTES, POINT_BYTES, decodePsiMessage, encodeBatch, encodeList, sessionTag,
  type PsiMessage, type PsiMessageHeader, type PsiMode, type PsiRole,
} from './psi-message.ts';
import { PsiParty, type PsiItem, type PsiWipeReport } from './psi-party.ts';
import type { PsiPool } from './psi-pool.ts';
import { permuteRecords, randomPermutation } from './shuffle.ts';

/**
 * ECDH-PSI between two domains (DH-PSI after Meadows 1986 and Huberman, Franklin & Hogg 1999) on
 * X25519 with RFC 9380 hash-to-curve. Two roles; the coordinator only relays the messages:
 *
 *   receiver R (items X, key a)                    sender S (items Y, key b)
 *   M1 = shuffle(H(x)^a)            ──────────▶    M3 = (M1)^b, shuffled again (cardinality)
 *                                                          or in M1's order (membership)
 *                                   ◀──────────    M2 = shuffle(H(y)^b)
 *                                   ◀──────────    M3
 *   compares M3 with (M2)^a
 *
 * What each side learns (docs/protocols.md, "ECDH-PSI"):
 *  - cardinality: R learns |X ∩ Y| (distinct items) and which positions of S's shuffled list M2
 *    matched (`peerMembership`: random positions, nothing about its own items); S learns |X|.
 *  - membership: R learns which of its own rows have an item in Y (`rowIsMember`) and the M2
 *    position each matched; S learns |X|. Nothing else reaches S.
 *  - both learn the other's list size (padded when `padTo` is used); the coordinator learns the
 *    list sizes and nothing else.
 * Items are compared as bytes; duplicates in one side's input are blinded once (the set is what
 * is intersected), and in membership mode every row whose item is in Y is a member.
 *
 * Hook for the grouped homomorphic sum (../he/): the HE key holder is the PSI *sender*: it orders
 * its rows by `result.rowOfPosition` (its list as sent; several rows may share a position, −1 is
 * a dummy); the HE summing party is the *receiver* in cardinality mode and passes
 * `result.peerMembership` (one 0/1 per position of the sender's list) to `openSummer`. Neither
 * side learns more than the cardinality flow gives it; the membership bits stay with the receiver.
 */

export interface PsiSessionOptions {
  /** The job (and stage) both domains run; bound into every message. */
  readonly session: string;
  readonly mode: PsiMode;
  /** Which bucket of a bucketed job this session is (psi-bucket.ts); 0 when not bucketed. */
  readonly bucket?: number;
  /** Hash-to-curve suite, the same on both sides; default 'NU' (DEFAULT_SUITE). */
  readonly suite?: HashSuite;
  /** The thread pool for the scalar multiplications; default the process-wide pool. */
  readonly pool?: PsiPool;
  /** Upper bound of one message (header included); default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Pad the list of distinct own items with dummy points up to this size (hides the exact size, and bucket sizes). */
  readonly padTo?: number;
}

export interface PsiReceiverResult {
  readonly mode: PsiMode;
  /** |X ∩ Y|, distinct items. */
  readonly intersectionSize: number;
  /** Own input rows, own distinct items, own list as sent (with dummies), the peer's list as received. */
  readonly ownRows: number;
  readonly ownItems: number;
  readonly listSize: number;
  readonly peerListSize: number;
  /** One byte per position of the peer's list (its order as sent): 1 when it matched an own item. */
  readonly peerMembership: Uint8Array;
  /** Per position of the own list as sent: the first own row with that item, −1 for a dummy (own information). */
  readonly rowOfPosition: Int32Array;
  /** Membership mode: one byte per own input row, 1 when the row's item is in the peer's set. */
  readonly rowIsMember?: Uint8Array;
  /** Membership mode: per own row, the position in the peer's list it matched, −1 when none. */
  readonly matchedPeerPosition?: Int32Array;
}

export interface PsiSenderResult {
  readonly mode: PsiMode;
  readonly ownRows: number;
  readonly ownItems: number;
  /** Own list as sent (distinct items and dummies). */
  readonly listSize: number;
  /** The receiver's list size (known once its list arrived, else −1). */
  readonly peerListSize: number;
  /** Per position of the list as sent: the first own row with that item, −1 for a dummy. */
  readonly rowOfPosition: Int32Array;
  /** Per own row: the position of its item in the list as sent. */
  readonly positionOfRow: Uint32Array;
}

/** Own items blinded, deduplicated, padded and shuffled: the first list each side sends. */
interface OwnList {
  readonly points: Uint8Array;
  readonly rows: number;
  readonly items: number;
  /** position → distinct item index; ≥ items for a dummy */
  readonly itemOfPosition: Uint32Array;
  /** row → distinct item index */
  readonly itemOfRow: Uint32Array;
  /** distinct item → first row */
  readonly firstRowOfItem: Uint32Array;
}

const closedError = (): LabError => new LabError('LAB-E105', { detail: t('该 PSI 会话已关闭，密钥已销毁', 'the PSI session is closed and its key wiped') });

async function ownList(party: PsiParty, input: readonly PsiItem[], padTo: number | undefined): Promise<OwnList> {
  const rows = input.length;
  if (rows > MAX_LIST_POINTS || (padTo ?? 0) > MAX_LIST_POINTS) {
    throw new LabError('LAB-E106', { detail: t(`单次会话最多 ${MAX_LIST_POINTS} 项，请分桶`, `one session takes at most ${MAX_LIST_POINTS} items; use buckets`) });
  }
  const blinded = await party.blind(packItems(input));
  // Distinct items: equal items give equal blinded points (and distinct ones distinct points, but for a collision of the hash).
  const index = new PointIndex(blinded, rows);
  const itemOfRow = new Uint32Array(rows);
  const firstRowOfItem = new Uint32Array(rows);
  let items = 0;
  for (let r = 0; r < rows; r++) {
    const earlier = index.add(r);
    if (earlier < 0) { firstRowOfItem[items] = r; itemOfRow[r] = items++; } else itemOfRow[r] = itemOfRow[earlier]!;
  }
  const dummies = Math.max(0, (padTo ?? 0) - items);
  // A dummy is the blinded hash of 32 random bytes: a valid point, indistinguishable from an item's.
  const dummyPoints = dummies > 0 ? await party.blind(Array.from({ length: dummies }, () => new Uint8Array(randomBytes(32)))) : new Uint8Array(0);
  const total = items + dummies;
  const itemOfPosition = randomPermutation(total);
  const points = new Uint8Array(total * POINT_BYTES);
  for (let k = 0; k < total; k++) {
    const u = itemOfPosition[k]!;
    const src = u < items ? blinded.subarray(firstRowOfItem[u]! * 32, firstRowOfItem[u]! * 32 + 32) : dummyPoints.subarray((u - items) * 32, (u - items) * 32 + 32);
    points.set(src, k * POINT_BYTES);
  }
  return { points, rows, items, itemOfPosition, itemOfRow, firstRowOfItem: firstRowOfItem.slice(0, items) };
}

function rowsOfPositions(own: OwnList): Int32Array {
  return Int32Array.from(own.itemOfPosition, (u) => (u < own.items ? own.firstRowOfItem[u]! : -1));
}

/** What both roles share: the key, the session's parameters and the checks on each message's header. */
abstract class PsiSession {
  protected readonly tag: Uint8Array;
  protected readonly bucket: number;
  protected readonly maxMessageBytes: number;
  protected own: OwnList | undefined;

  protected constructor(protected readonly role: PsiRole, protected readonly options: PsiSessionOptions, protected readonly party: PsiParty) {
    this.tag = sessionTag(options.session);
    this.bucket = options.bucket ?? 0;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  protected static async party(options: PsiSessionOptions): Promise<PsiParty> {
    if (typeof options.session !== 'string' || options.session.length === 0) throw new LabError('LAB-E106', { detail: t('缺少会话标识', 'the session id is missing'), field: 'session' });
    if (options.mode !== 'cardinality' && options.mode !== 'membership') throw new LabError('LAB-E106', { detail: t('未知的模式', 'unknown mode'), field: 'mode' });
    const b = options.bucket ?? 0;
    if (!Number.isInteger(b) || b < 0 || b > 0xffffffff) throw new LabError('LAB-E106', { detail: t('桶编号无效', 'invalid bucket index'), field: 'bucket' });
    const m = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(m) || m < MIN_MAX_MESSAGE_BYTES) throw new LabError('LAB-E106', { detail: t('单条消息上限过小', 'the message size limit is too small'), field: 'maxMessageBytes' });
    const p = options.padTo;
    if (p !== undefined && (!Number.isInteger(p) || p < 0)) throw new LabError('LAB-E106', { detail: t('填充大小无效', 'invalid padding size'), field: 'padTo' });
    return PsiParty.create({ ...(options.pool ? { pool: options.pool } : {}), suite: options.suite ?? DEFAULT_SUITE });
  }

  get closed(): boolean { return this.party.closed; }

  protected base(kind: PsiMessageHeader['kind']): Omit<PsiMessageHeader, 'batch' | 'batches' | 'total' | 'first'> {
    return { kind, from: this.role, mode: this.options.mode, suite: this.party.suite, sessionTag: this.tag, bucket: this.bucket };
  }

  /** Blinds, deduplicates, pads and shuffles the own items; returns the messages of that list. */
  async start(items: readonly PsiItem[]): Promise<Uint8Array[]> {
    if (this.closed) throw closedError();
    if (this.own) throw new LabError('LAB-E103', { detail: t('会话已开始', 'the session was already started') });
    const own = await ownList(this.party, items, this.options.padTo);
    if (this.closed) throw closedError();
    this.own = own;
    return encodeList(this.base('blinded'), own.points, this.maxMessageBytes);
  }

  /** Decodes a message and checks that it belongs here (LAB-E100/E101/E103/E104). */
  protected accept(bytes: Uint8Array): PsiMessage {
    if (this.closed) throw closedError();
    const m = decodePsiMessage(bytes);
    const h = m.header;
    if (!equalBytes(h.sessionTag, this.tag) || h.bucket !== this.bucket) {
      throw new LabError('LAB-E101', { detail: t('消息属于另一会话或另一个桶', 'the message belongs to another session or bucket') });
    }
    if (h.mode !== this.options.mode || h.suite !== this.party.suite) {
      throw new LabError('LAB-E104', { detail: t(`对方使用 ${h.mode}/${h.suite}，本方为 ${this.options.mode}/${this.party.suite}`, `the peer uses ${h.mode}/${h.suite}, this side ${this.options.mode}/${this.party.suite}`) });
    }
    if (h.from === this.role) throw new LabError('LAB-E103', { detail: t('收到本方角色发出的消息', 'a message from this side\u2019s own role') });
    return m;
  }

  /** Wipes the key (here and on the pool's threads). */
  close(): Promise<PsiWipeReport> {
    return this.party.close();
  }
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The side that learns the result. */
export class PsiReceiver extends PsiSession {
  private readonly peerList = new ListAssembler('对方的盲化列表 / the peer\u2019s blinded list');
  private readonly returned = new ListAssembler('返回的双重盲化列表 / the returned reblinded list');
  private peerReblinded = new Uint8Array(0);
  private peerDone = 0;
  private returnedDone = 0;
  /** Index of the peer's list under both keys, built once that list is complete. */
  private index: PointIndex | undefined;
  /** Returned batches that arrived before the index: [first, count]. */
  private waiting: [number, number][] = [];
  private peerMembership = new Uint8Array(0);
  private matchOfItem = new Int32Array(0);
  private count = 0;
  private outcome: PsiReceiverResult | undefined;

  static async create(options: PsiSessionOptions): Promise<PsiReceiver> {
    return new PsiReceiver(options, await PsiSession.party(options));
  }

  private constructor(options: PsiSessionOptions, party: PsiParty) {
    super('receiver', options, party);
  }

  get done(): boolean { return this.outcome !== undefined; }

  /** Takes one message from the sender; the receiver never answers (returns no message). */
  async handle(bytes: Uint8Array): Promise<Uint8Array[]> {
    const m = this.accept(bytes);
    if (m.header.kind === 'blinded') {
      this.peerList.accept(m);
      if (this.peerReblinded.length !== this.peerList.points.length) this.peerReblinded = new Uint8Array(this.peerList.points.length);
      const re = await this.party.reblind(m.points); // (H(y)^b)^a
      if (this.closed) throw closedError();
      this.peerReblinded.set(re, m.header.first * POINT_BYTES);
      this.peerDone += m.count;
      if (this.peerList.complete && this.peerDone === this.peerList.size) this.buildIndex();
    } else {
      const own = this.own;
      if (!own) throw new LabError('LAB-E103', { detail: t('在发送本方列表之前收到了返回列表', 'the returned list arrived before this side sent its own') });
      if (m.header.total !== own.points.length / POINT_BYTES) {
        throw new LabError('LAB-E100', { detail: t('返回列表的长度与本方列表不符', 'the returned list is not as long as the list sent') });
      }
      this.returned.accept(m);
      await this.party.check(m.points);
      if (this.closed) throw closedError();
      this.returned.points.set(m.points, m.header.first * POINT_BYTES);
      this.returnedDone += m.count;
      if (this.index) this.match(m.header.first, m.count);
      else this.waiting.push([m.header.first, m.count]);
    }
    if (!this.outcome && this.index && this.returned.complete && this.returnedDone === this.returned.size) this.outcome = this.finish();
    return [];
  }

  private buildIndex(): void {
    const size = this.peerList.size;
    const index = new PointIndex(this.peerReblinded, size);
    for (let j = 0; j < size; j++) index.add(j);
    this.peerMembership = new Uint8Array(size);
    this.matchOfItem = new Int32Array(this.own?.items ?? 0).fill(-1);
    this.index = index;
    for (const [first, count] of this.waiting) this.match(first, count);
    this.waiting = [];
  }

  /** Compares returned points [first, first + count) with the peer's list under both keys. */
  private match(first: number, count: number): void {
    const own = this.own!, index = this.index!;
    if (this.matchOfItem.length !== own.items) this.matchOfItem = new Int32Array(own.items).fill(-1);
    const words = wordsOf(this.returned.points.subarray(first * POINT_BYTES, (first + count) * POINT_BYTES));
    const membership = this.options.mode === 'membership';
    for (let k = 0; k < count; k++) {
      const j = index.find(words, k);
      if (j < 0) continue;
      if (membership) {
        const u = own.itemOfPosition[first + k]!;
        if (u >= own.items) continue; // a dummy (matches only by a hash collision)
        this.matchOfItem[u] = j;
      }
      if (this.peerMembership[j] === 0) { this.peerMembership[j] = 1; this.count++; }
    }
  }

  private finish(): PsiReceiverResult {
    const own = this.own!;
    const base = {
      mode: this.options.mode, intersectionSize: this.count, peerMembership: this.peerMembership, ownRows: own.rows, ownItems: own.items,
      listSize: own.itemOfPosition.length, peerListSize: this.peerList.size, rowOfPosition: rowsOfPositions(own),
    };
    this.returned.points = new Uint8Array(0);
    this.peerReblinded = new Uint8Array(0);
    if (this.options.mode === 'cardinality') return base;
    const rowIsMember = new Uint8Array(own.rows);
    const matchedPeerPosition = new Int32Array(own.rows);
    for (let r = 0; r < own.rows; r++) {
      const j = this.matchOfItem[own.itemOfRow[r]!]!;
      matchedPeerPosition[r] = j;
      rowIsMember[r] = j >= 0 ? 1 : 0;
    }
    return { ...base, rowIsMember, matchedPeerPosition };
  }

  result(): PsiReceiverResult {
    if (!this.outcome) throw new LabError('LAB-E103', { detail: t('协议尚未完成', 'the protocol has not finished') });
    return this.outcome;
  }
}

/** The side that helps: it blinds its items and re-blinds the receiver's. */
export class PsiSender extends PsiSession {
  private readonly peerList = new ListAssembler('对方的盲化列表 / the peer\u2019s blinded list');
  private reblinded = new Uint8Array(0);
  private processed = 0;
  private sentBack = false;

  static async create(options: PsiSessionOptions): Promise<PsiSender> {
    return new PsiSender(options, await PsiSession.party(options));
  }

  private constructor(options: PsiSessionOptions, party: PsiParty) {
    super('sender', options, party);
  }

  /** True once the reblinded list went back in full. */
  get done(): boolean { return this.sentBack; }

  /** Takes a batch of the receiver's list; answers with reblinded points (per batch in membership mode, all at the end in cardinality mode). */
  async handle(bytes: Uint8Array): Promise<Uint8Array[]> {
    const m = this.accept(bytes);
    if (m.header.kind !== 'blinded') throw new LabError('LAB-E103', { detail: t('发送方只接收对方的盲化列表', 'the sender takes only the peer\u2019s blinded list') });
    this.peerList.accept(m);
    const re = await this.party.reblind(m.points); // (H(x)^a)^b
    if (this.closed) throw closedError();
    const h = m.header;
    if (this.options.mode === 'membership') {
      // in the receiver's order: it maps each point back to its own item
      this.processed += m.count;
      if (this.peerList.complete && this.processed === this.peerList.size) this.sentBack = true;
      return [encodeBatch({ ...this.base('reblinded'), batch: h.batch, batches: h.batches, total: h.total, first: h.first }, re)];
    }
    if (this.reblinded.length !== this.peerList.points.length) this.reblinded = new Uint8Array(this.peerList.points.length);
    this.reblinded.set(re, h.first * POINT_BYTES);
    this.processed += m.count;
    if (!(this.peerList.complete && this.processed === this.peerList.size) || this.sentBack) return [];
    // shuffled again, so that the receiver cannot tell which of its items matched
    this.sentBack = true;
    const shuffled = permuteRecords(this.reblinded, randomPermutation(this.peerList.size));
    this.reblinded = new Uint8Array(0);
    return encodeList(this.base('reblinded'), shuffled, this.maxMessageBytes);
  }

  result(): PsiSenderResult {
    const own = this.own;
    if (!own) throw new LabError('LAB-E103', { detail: t('会话尚未开始', 'the session has not started') });
    const listSize = own.itemOfPosition.length;
    const rowOfPosition = rowsOfPositions(own);
    const positionOfItem = new Uint32Array(own.items);
    for (let k = 0; k < listSize; k++) {
      const u = own.itemOfPosition[k]!;
      if (u < own.items) positionOfItem[u] = k;
    }
    const positionOfRow = new Uint32Array(own.rows);
    for (let r = 0; r < own.rows; r++) positionOfRow[r] = positionOfItem[own.itemOfRow[r]!]!;
    return {
      mode: this.options.mode, ownRows: own.rows, ownItems: own.items, listSize,
      peerListSize: this.peerList.size, rowOfPosition, positionOfRow,
    };
  }
}
