import { afterAll, describe, expect, it } from 'vitest';
import { BucketKeyExchange, bucketOf, combineReceiverResults, combineSenderResults, partitionItems } from './psi-bucket.ts';
import { PsiPool } from './psi-pool.ts';
import { runPsiLocally } from './psi-local.ts';
import { wipeSecure } from './sodium.ts';

const pool = new PsiPool(0);
afterAll(() => pool.close());

function agreeOnKey(session: string) {
  const r = BucketKeyExchange.create(session, 'receiver');
  const s = BucketKeyExchange.create(session, 'sender');
  const rm = r.message(), sm = s.message();
  return { receiverKey: r.derive(sm), senderKey: s.derive(rm), messages: [rm, sm] };
}

describe('bucket key agreement', () => {
  it('both domains derive the same key; the messages carry only public keys; another session gives another key', () => {
    const a = agreeOnKey('job-b');
    expect(Buffer.from(a.receiverKey).equals(Buffer.from(a.senderKey))).toBe(true);
    for (const m of a.messages) expect(Buffer.from(m).includes(Buffer.from(a.receiverKey))).toBe(false);
    const b = agreeOnKey('job-b');
    expect(Buffer.from(a.receiverKey).equals(Buffer.from(b.receiverKey))).toBe(false); // fresh ephemeral keys
    for (const k of [a.receiverKey, a.senderKey, b.receiverKey, b.senderKey]) expect(wipeSecure(k)).toBe(true);
  });

  it('refuses a message of another session, of its own role, malformed or with a low-order key', () => {
    const r = BucketKeyExchange.create('job-x', 'receiver');
    expect(() => r.derive(BucketKeyExchange.create('job-y', 'sender').message())).toThrow(expect.objectContaining({ code: 'LAB-E101' }));
    expect(() => r.derive(BucketKeyExchange.create('job-x', 'receiver').message())).toThrow(expect.objectContaining({ code: 'LAB-E103' }));
    expect(() => r.derive(new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'LAB-E100' }));
    const low = BucketKeyExchange.create('job-x', 'sender').message();
    low.fill(0, 22, 54);
    expect(() => r.derive(low)).toThrow(expect.objectContaining({ code: 'LAB-E102' }));
    expect(() => r.derive(BucketKeyExchange.create('job-x', 'sender').message())).toThrow(expect.objectContaining({ code: 'LAB-E105' })); // used up
  });
});

describe('bucketed PSI', () => {
  const X = [...Array.from({ length: 3000 }, (_, k) => `r-${k}`), 'r-5', 'r-17'];
  const Y = [...Array.from({ length: 2000 }, (_, k) => `r-${k * 2 + 1000}`), 'r-1001'];
  const B = 4;

  it('equal items fall in the same bucket on both sides, and buckets are about even', () => {
    const { receiverKey, senderKey } = agreeOnKey('job-even');
    for (const x of ['a', 'r-1', 'r-2000']) expect(bucketOf(x, receiverKey, 16)).toBe(bucketOf(x, senderKey, 16));
    const p = partitionItems(X, receiverKey, B, { mode: 'membership' });
    for (const rows of p.rows) expect(Math.abs(rows.length - X.length / B)).toBeLessThan(200);
    expect(p.padTo).toBe(Math.max(...p.rows.map((r) => r.length)));
    wipeSecure(receiverKey); wipeSecure(senderKey);
  });

  for (const mode of ['membership', 'cardinality'] as const) {
    it(`${mode}: buckets as separate sessions give what one session gives`, async () => {
      const whole = await runPsiLocally(X, Y, { session: 'job-whole', mode, pool });
      const { receiverKey, senderKey } = agreeOnKey('job-bucketed');
      const opts = { mode, minItemsPerBucket: 100 };
      const rp = partitionItems(X, receiverKey, B, opts);
      const sp = partitionItems(Y, senderKey, B, opts);
      const runs = await Promise.all(Array.from({ length: B }, (_, b) => runPsiLocally(rp.items[b]!, sp.items[b]!, {
        session: 'job-bucketed', bucket: b, mode, pool, receiverPadTo: rp.padTo!, senderPadTo: sp.padTo!,
      })));
      const combined = combineReceiverResults(rp, runs.map((r) => r.receiver));
      expect(combined.intersectionSize).toBe(whole.receiver.intersectionSize);
      expect(combined.intersectionSize).toBe(1001); // r-1000, r-1002 … r-2998, and r-1001
      if (mode === 'membership') expect(combined.rowIsMember).toEqual(whole.receiver.rowIsMember);
      // padding: every bucket's list has the same size on each side
      expect(new Set(runs.map((r) => r.receiver.listSize))).toEqual(new Set([rp.padTo]));
      expect(new Set(runs.map((r) => r.sender.listSize))).toEqual(new Set([sp.padTo]));
      // the sender's rows map back to its whole input
      const sc = combineSenderResults(sp, runs.map((r) => r.sender));
      expect(sc.ownItems).toBe(new Set(Y).size);
      const rows = sc.rowOfPosition.flatMap((a) => [...a].filter((r) => r >= 0));
      expect(new Set(rows.map((r) => Y[r])).size).toBe(new Set(Y).size);
      wipeSecure(receiverKey); wipeSecure(senderKey);
    });
  }

  it('cardinality mode refuses buckets below the minimum size (LAB-E108); membership does not', () => {
    const { receiverKey, senderKey } = agreeOnKey('job-min');
    expect(() => partitionItems(X, receiverKey, 2, { mode: 'cardinality' })).toThrow(expect.objectContaining({ code: 'LAB-E108' }));
    expect(() => partitionItems(X, receiverKey, 1, { mode: 'cardinality' })).not.toThrow();
    expect(partitionItems(X, receiverKey, 64, { mode: 'membership' }).bucketCount).toBe(64);
    expect(() => partitionItems(X, receiverKey, 0, { mode: 'membership' })).toThrow(expect.objectContaining({ code: 'LAB-E106' }));
    wipeSecure(receiverKey); wipeSecure(senderKey);
  });
});
