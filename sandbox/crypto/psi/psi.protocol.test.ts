import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SUITE, HashToCurve, PSI_DST } from './hash-to-curve.ts';
import { expandMessageXmd, uBytes } from './hash-to-curve.reference.ts';
import { P } from './curve25519.wasm.ts';
import { decodePsiMessage, encodeBatch, encodeList, sessionTag, PSI_HEADER_BYTES, type PsiMessageHeader, type PsiRole } from './psi-message.ts';
import { PsiParty, type PsiItem } from './psi-party.ts';
import { PsiPool } from './psi-pool.ts';
import { runPsiLocally } from './psi-local.ts';
import { PsiReceiver, PsiSender, type PsiReceiverResult, type PsiSenderResult } from './psi.protocol.ts';

const inline = new PsiPool(0);
const threads = new PsiPool(2);
afterAll(async () => { await inline.close(); await threads.close(); });

const enc = new TextEncoder();
const keyOf = (x: PsiItem): string => Buffer.from(typeof x === 'string' ? enc.encode(x) : x).toString('hex');

/** The plain answer: set intersection on the items' bytes. */
function plain(X: readonly PsiItem[], Y: readonly PsiItem[]) {
  const ys = new Set(Y.map(keyOf));
  const xs = new Set(X.map(keyOf));
  return { size: [...xs].filter((k) => ys.has(k)).length, member: X.map((x) => ys.has(keyOf(x))) };
}

/** Every check that ties both results to the plain answer. */
function expectAgrees(X: readonly PsiItem[], Y: readonly PsiItem[], receiver: PsiReceiverResult, sender: PsiSenderResult): void {
  const want = plain(X, Y);
  expect(receiver.intersectionSize).toBe(want.size);
  expect(receiver.peerMembership.reduce((a, b) => a + b, 0)).toBe(want.size);
  expect(receiver.ownItems).toBe(new Set(X.map(keyOf)).size);
  expect(sender.ownItems).toBe(new Set(Y.map(keyOf)).size);
  expect(receiver.peerListSize).toBe(sender.listSize);
  expect(sender.peerListSize).toBe(receiver.listSize);
  // the HE hook: every matched position of the sender's list holds an item of X
  const xs = new Set(X.map(keyOf));
  receiver.peerMembership.forEach((m, j) => {
    const row = sender.rowOfPosition[j]!;
    expect(m === 1).toBe(row >= 0 && xs.has(keyOf(Y[row]!)));
  });
  Y.forEach((y, r) => expect(keyOf(Y[sender.rowOfPosition[sender.positionOfRow[r]!]!]!)).toBe(keyOf(y)));
  if (receiver.mode === 'membership') {
    expect(Array.from(receiver.rowIsMember!, (b) => b === 1)).toEqual(want.member);
    X.forEach((x, r) => {
      const j = receiver.matchedPeerPosition![r]!;
      if (want.member[r]) expect(keyOf(Y[sender.rowOfPosition[j]!]!)).toBe(keyOf(x));
      else expect(j).toBe(-1);
    });
  } else {
    expect(receiver.rowIsMember).toBeUndefined();
  }
}

const item = fc.oneof(
  fc.integer({ min: 0, max: 60 }).map((k) => `4401061990${String(k).padStart(8, '0')}`),
  fc.string({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 40 }),
);

describe('ECDH-PSI against plain set intersection', () => {
  for (const mode of ['cardinality', 'membership'] as const) {
    it(`${mode}: random sets with overlaps and duplicates`, async () => {
      await fc.assert(fc.asyncProperty(fc.array(item, { maxLength: 80 }), fc.array(item, { maxLength: 80 }), async (X, Y) => {
        const run = await runPsiLocally(X, Y, { session: 'job-prop', mode, pool: inline, maxMessageBytes: 48 + 32 * 7 });
        expectAgrees(X, Y, run.receiver, run.sender);
      }), { numRuns: 25 });
    });
  }

  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `id-${from + k}`);
  const cases: [string, PsiItem[], PsiItem[]][] = [
    ['both empty', [], []],
    ['receiver empty', [], ids(0, 50)],
    ['sender empty', ids(0, 50), []],
    ['disjoint', ids(0, 200), ids(200, 400)],
    ['identical', ids(0, 300), ids(0, 300)],
    ['subset', ids(0, 100), ids(0, 400)],
    ['duplicates on both sides', [...ids(0, 50), ...ids(0, 50), 'id-7', 'id-7'], [...ids(25, 75), ...ids(25, 75), 'id-30']],
    ['one item each, equal', ['x'], ['x']],
    ['the empty string and a long item', ['', 'z'.repeat(20_000), 'a'], ['', 'z'.repeat(20_000), 'b']],
    ['text and the same bytes are one item', ['abc', '中文 ID'], [enc.encode('abc'), enc.encode('中文 ID'), 'abd']],
  ];
  for (const [name, X, Y] of cases) {
    it(`edge case: ${name} (both modes)`, async () => {
      for (const mode of ['cardinality', 'membership'] as const) {
        const run = await runPsiLocally(X, Y, { session: `job-${name}`, mode, pool: inline });
        expectAgrees(X, Y, run.receiver, run.sender);
      }
    });
  }

  it('on worker threads, with small messages, padding on both sides, both suites', async () => {
    const X = Array.from({ length: 2500 }, (_, k) => `p-${k * 3}`);
    const Y = Array.from({ length: 1800 }, (_, k) => `p-${k * 5}`);
    for (const suite of ['RO', 'NU'] as const) {
      for (const mode of ['cardinality', 'membership'] as const) {
        const run = await runPsiLocally(X, Y, { session: 'job-threads', mode, suite, pool: threads, maxMessageBytes: 10_000, receiverPadTo: 3000, senderPadTo: 2000 });
        expectAgrees(X, Y, run.receiver, run.sender);
        expect(run.receiver.listSize).toBe(3000);
        expect(run.sender.listSize).toBe(2000);
        expect(Array.from(run.sender.rowOfPosition).filter((r) => r < 0)).toHaveLength(200); // the dummies
      }
    }
  });

  it('messages stay within the size bound and carry the list sizes', async () => {
    const seen: Uint8Array[] = [];
    const X = Array.from({ length: 700 }, (_, k) => `m-${k}`);
    await runPsiLocally(X, X.slice(0, 300), { session: 'job-size', mode: 'cardinality', pool: inline, maxMessageBytes: 4096, relay: (m) => seen.push(m) });
    expect(seen.every((m) => m.length <= 4096)).toBe(true);
    const per = Math.floor((4096 - PSI_HEADER_BYTES) / 32);
    const lists = seen.map((m) => decodePsiMessage(m).header);
    expect(lists.filter((h) => h.kind === 'blinded' && h.from === 'receiver')).toHaveLength(Math.ceil(700 / per));
    expect(lists.filter((h) => h.kind === 'reblinded')).toHaveLength(Math.ceil(700 / per));
    expect(lists.filter((h) => h.kind === 'blinded' && h.from === 'sender')).toHaveLength(Math.ceil(300 / per));
  });
});

/** A header for a list the test itself sends, as the given role. */
const header = (from: PsiRole, kind: PsiMessageHeader['kind'], mode: PsiMessageHeader['mode'], session: string) =>
  ({ kind, from, mode, suite: DEFAULT_SUITE, sessionTag: sessionTag(session), bucket: 0 });

describe('shuffling', () => {
  const X = Array.from({ length: 1000 }, (_, k) => `s-${String(k).padStart(4, '0')}`);

  it('each side sends its list in a fresh random order', async () => {
    const a = await runPsiLocally(X, X, { session: 'job-shuffle', mode: 'cardinality', pool: inline });
    const b = await runPsiLocally(X, X, { session: 'job-shuffle', mode: 'cardinality', pool: inline });
    for (const order of [a.sender.rowOfPosition, a.receiver.rowOfPosition, b.sender.rowOfPosition]) {
      expect([...order].sort((p, q) => p - q)).toEqual(X.map((_, k) => k)); // a permutation of the rows
      expect(order.filter((r, k) => r === k).length).toBeLessThan(10); // ≈ 1 fixed point expected
    }
    expect(a.sender.rowOfPosition).not.toEqual(b.sender.rowOfPosition);
  });

  /**
   * The test plays the receiver with its own key c and its items in a known order, then tells
   * which item each returned point is: the returned point of x is H(x)^{cb}, and (H(y)^b)^c for the
   * sender's list (whose items the sender's result names) gives the same values.
   */
  async function returnedOrder(mode: 'cardinality' | 'membership'): Promise<number[]> {
    const session = `job-order-${mode}`;
    const sender = await PsiSender.create({ session, mode, pool: inline });
    const me = await PsiParty.create({ pool: inline });
    try {
      const m2 = await sender.start(X);
      const m1 = encodeList(header('receiver', 'blinded', mode, session), await me.blind(X), 8192);
      const m3 = (await Promise.all(m1.map((m) => sender.handle(m)))).flat().map(decodePsiMessage).sort((p, q) => p.header.first - q.header.first);
      const returned = Buffer.concat(m3.map((m) => m.points));
      const senderList = Buffer.concat(m2.map((m) => decodePsiMessage(m).points));
      const both = await me.reblind(new Uint8Array(senderList));
      const rows = sender.result().rowOfPosition;
      const itemOf = new Map<string, number>();
      for (let j = 0; j < rows.length; j++) itemOf.set(Buffer.from(both.subarray(32 * j, 32 * j + 32)).toString('hex'), rows[j]!);
      return Array.from({ length: X.length }, (_, i) => itemOf.get(returned.subarray(32 * i, 32 * i + 32).toString('hex')) ?? -1);
    } finally {
      await sender.close();
      await me.close();
    }
  }

  it('membership: the sender returns the points in the receiver\u2019s order', async () => {
    expect(await returnedOrder('membership')).toEqual(X.map((_, k) => k));
  });

  it('cardinality: the sender shuffles the returned points again', async () => {
    const order = await returnedOrder('cardinality');
    expect([...order].sort((p, q) => p - q)).toEqual(X.map((_, k) => k)); // all there
    expect(order.filter((r, k) => r === k).length).toBeLessThan(10);
  });
});

describe('what the messages carry', () => {
  it('no planted identifier, nor its SHA-256, SHA-512, hash_to_field output or unblinded point, in any message', async () => {
    const canary = '110101199003071234';
    const X = [...Array.from({ length: 300 }, (_, k) => `4401061990${String(k).padStart(8, '0')}`), canary];
    const Y = [canary, ...Array.from({ length: 200 }, (_, k) => `4401061990${String(k * 7).padStart(8, '0')}`)];
    const c = enc.encode(canary);
    const needles: [string, Uint8Array][] = [
      ['identifier', c],
      ['identifier (UTF-16)', Buffer.from(canary, 'utf16le')],
      ['SHA-256', createHash('sha256').update(c).digest()],
      ['SHA-512', createHash('sha512').update(c).digest()],
      ['SHA-256 hex', enc.encode(createHash('sha256').update(c).digest('hex'))],
      ['hash_to_field bytes (RO)', expandMessageXmd(c, enc.encode(PSI_DST.RO), 96)],
      ['hash_to_field bytes (NU)', expandMessageXmd(c, enc.encode(PSI_DST.NU), 48)],
      ['H(x), unblinded (RO)', new HashToCurve('RO').hash([canary])],
      ['H(x), unblinded (NU)', new HashToCurve('NU').hash([canary])],
    ];
    /** Any 8-byte window of a needle (a truncated digest would be found too). */
    const windows = (n: Uint8Array): Buffer[] => (n.length <= 8 ? [Buffer.from(n)] : Array.from({ length: n.length - 7 }, (_, k) => Buffer.from(n.subarray(k, k + 8))));
    const found = (haystack: Uint8Array): string[] => needles.filter(([, n]) => windows(n).some((w) => Buffer.from(haystack).includes(w))).map(([name]) => name);

    // the search itself works: a message with the SHA-512 inside is caught
    const control = encodeBatch({ ...header('sender', 'blinded', 'membership', 'x'), batch: 0, batches: 1, total: 2, first: 0 }, needles[3]![1]);
    expect(found(control)).toContain('SHA-512');

    for (const [mode, suite] of [['cardinality', 'NU'], ['membership', 'NU'], ['cardinality', 'RO'], ['membership', 'RO']] as const) {
      const messages: Uint8Array[] = [];
      const run = await runPsiLocally(X, Y, { session: 'job-canary', mode, suite, pool: inline, relay: (m) => messages.push(m) });
      expect(run.receiver.intersectionSize).toBeGreaterThan(1);
      expect(messages.length).toBeGreaterThan(2);
      for (const m of messages) expect(found(m)).toEqual([]);
    }
  });
});

describe('keys', () => {
  it('are zeroed on close, on the caller\u2019s thread and on every pool thread; a closed session refuses work', async () => {
    const r = await PsiReceiver.create({ session: 'job-keys', mode: 'membership', pool: threads });
    const s = await PsiSender.create({ session: 'job-keys', mode: 'membership', pool: threads });
    const held = await threads.heldKeys();
    expect(held.every((ids) => ids.length >= 2)).toBe(true); // both keys on both threads
    const m1 = await r.start(['a', 'b']);
    await s.start(['b']);
    const rw = await r.close();
    const sw = await s.close();
    expect(rw).toEqual({ keyZeroed: true, threadCopiesZeroed: true });
    expect(sw).toEqual({ keyZeroed: true, threadCopiesZeroed: true });
    expect((await threads.heldKeys()).flat()).toEqual([]);
    await expect(s.handle(m1[0]!)).rejects.toMatchObject({ code: 'LAB-E105' });
    await expect(r.start(['c'])).rejects.toMatchObject({ code: 'LAB-E105' });
  });

  it('runPsiLocally wipes both keys even when the run fails', async () => {
    await expect(runPsiLocally(['a'], ['b'], { session: 'job-fail', mode: 'cardinality', pool: threads, maxMessageBytes: 10 })).rejects.toMatchObject({ code: 'LAB-E106' });
    expect((await threads.heldKeys()).flat()).toEqual([]);
  });
});

describe('refused messages', () => {
  const session = 'job-refuse';
  const twist = (() => {
    // a u-coordinate on the twist: u³ + Ju² + u not a square
    const J = 486662n;
    const pow = (b: bigint, e: bigint) => { let r = 1n, x = b % P; while (e > 0n) { if (e & 1n) r = (r * x) % P; x = (x * x) % P; e >>= 1n; } return r; };
    let u = 2n;
    while (pow((u * u * u + J * u * u + u) % P, (P - 1n) / 2n) !== P - 1n) u++;
    return uBytes(u);
  })();
  const nonCanonical = new Uint8Array(Buffer.from(P.toString(16), 'hex').reverse());

  async function pair(mode: 'cardinality' | 'membership' = 'membership') {
    const r = await PsiReceiver.create({ session, mode, pool: inline });
    const s = await PsiSender.create({ session, mode, pool: inline });
    return { r, s, m1: await r.start(['a', 'b', 'c']), m2: await s.start(['b', 'c', 'd']) };
  }

  it('invalid points: twist, low order, non-canonical, bit 255 (LAB-E102), at either side', async () => {
    for (const bad of [twist, uBytes(0n), uBytes(1n), uBytes(P - 1n), nonCanonical]) {
      const { r, s, m1, m2 } = await pair();
      const tamper = (m: Uint8Array) => { const x = new Uint8Array(m); x.set(bad, PSI_HEADER_BYTES + 32); return x; };
      await expect(s.handle(tamper(m1[0]!))).rejects.toMatchObject({ code: 'LAB-E102' });
      await expect(r.handle(tamper(m2[0]!))).rejects.toMatchObject({ code: 'LAB-E102' });
      await r.close(); await s.close();
    }
    const { r, s, m1 } = await pair();
    const m3 = await s.handle(m1[0]!);
    const x = new Uint8Array(m3[0]!);
    x[PSI_HEADER_BYTES + 31]! |= 0x80;
    await expect(r.handle(x)).rejects.toMatchObject({ code: 'LAB-E102' });
    await r.close(); await s.close();
  });

  it('malformed, misrouted, repeated and mismatched messages', async () => {
    const { r, s, m1, m2 } = await pair();
    await expect(s.handle(m1[0]!.subarray(0, 40))).rejects.toMatchObject({ code: 'LAB-E100' });
    await expect(s.handle(m1[0]!.subarray(0, m1[0]!.length - 5))).rejects.toMatchObject({ code: 'LAB-E100' });
    const magic = new Uint8Array(m1[0]!); magic[0] = 0x58;
    await expect(s.handle(magic)).rejects.toMatchObject({ code: 'LAB-E100' });
    const other = encodeList({ ...header('receiver', 'blinded', 'membership', 'another-job') }, decodePsiMessage(m1[0]!).points);
    await expect(s.handle(other[0]!)).rejects.toMatchObject({ code: 'LAB-E101' });
    const bucket = encodeList({ ...header('receiver', 'blinded', 'membership', session), bucket: 3 }, decodePsiMessage(m1[0]!).points);
    await expect(s.handle(bucket[0]!)).rejects.toMatchObject({ code: 'LAB-E101' });
    const mode = encodeList(header('receiver', 'blinded', 'cardinality', session), decodePsiMessage(m1[0]!).points);
    await expect(s.handle(mode[0]!)).rejects.toMatchObject({ code: 'LAB-E104' });
    await expect(r.handle(m1[0]!)).rejects.toMatchObject({ code: 'LAB-E103' }); // its own message back
    await s.handle(m1[0]!);
    await expect(s.handle(m1[0]!)).rejects.toMatchObject({ code: 'LAB-E103' }); // twice
    await r.handle(m2[0]!);
    await expect(r.handle(m2[0]!)).rejects.toMatchObject({ code: 'LAB-E103' });
    await r.close(); await s.close();
  });

  it('different hash suites on the two sides (LAB-E104)', async () => {
    const r = await PsiReceiver.create({ session, mode: 'cardinality', pool: inline, suite: 'RO' });
    const s = await PsiSender.create({ session, mode: 'cardinality', pool: inline, suite: 'NU' });
    const m1 = await r.start(['a']);
    await expect(s.handle(m1[0]!)).rejects.toMatchObject({ code: 'LAB-E104' });
    await r.close(); await s.close();
  });

  it('a returned list of another length, and batches that do not tile the list (LAB-E100)', async () => {
    const { r, s, m1 } = await pair('cardinality');
    const m3 = await s.handle(m1[0]!);
    const h = decodePsiMessage(m3[0]!);
    const short = encodeBatch({ ...h.header, total: 2 }, h.points.subarray(0, 64));
    await expect(r.handle(short)).rejects.toMatchObject({ code: 'LAB-E100' });
    const gap = encodeBatch({ ...h.header, batches: 2, batch: 0, first: 0 }, h.points.subarray(0, 32));
    const overlap = encodeBatch({ ...h.header, batches: 2, batch: 1, first: 0 }, h.points.subarray(0, 64));
    await r.handle(gap);
    await expect(r.handle(overlap)).rejects.toMatchObject({ code: 'LAB-E100' });
    await r.close(); await s.close();
  });
});
