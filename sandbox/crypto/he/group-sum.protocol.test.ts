import { afterAll, describe, expect, it } from 'vitest';
import { PsiPool, runPsiLocally } from '../psi/index.ts';
import { openKeyHolder, openSummer, type GroupSumKeyHolder, type GroupSumRows, type KeyHolderView } from './group-sum.protocol.ts';
import { decodeHeMessage, encodeHeMessage, type HeResultMessage, type HeRowsMessage, type HeSetupMessage } from './he-messages.ts';
import { c0Offset } from './noise-flood.ts';
import { liveHandleCount } from './session-handles.ts';

/** Deterministic test data (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

function makeData(seed: number, n: number, groups: number, maxValue: number, matchRate = 0.5) {
  const r = rng(seed);
  const rows: GroupSumRows = {
    group: Array.from({ length: n }, () => Math.floor(r() * groups)),
    value: Array.from({ length: n }, () => Math.floor(r() * (maxValue + 1))),
  };
  const membership = Uint8Array.from({ length: n }, () => (r() < matchRate ? 1 : 0));
  return { rows, membership };
}

function plainTotals(rows: GroupSumRows, membership: Uint8Array, groups: number) {
  const out = Array.from({ length: groups }, (_, group) => ({ group, count: 0, sum: 0n }));
  for (let i = 0; i < membership.length; i++) {
    if (!membership[i]) continue;
    const t = out[rows.group[i]!]!;
    t.count++;
    t.sum += BigInt(rows.value[i]!);
  }
  return out;
}

/** Everything through the coordinator as bytes. */
const relay = <M>(m: M & Parameters<typeof encodeHeMessage>[0]): M => decodeHeMessage(encodeHeMessage(m)) as unknown as M;

async function runProtocol(holder: GroupSumKeyHolder, rows: GroupSumRows, membership: Uint8Array, per = 2) {
  const setup = relay<HeSetupMessage>(holder.setupMessage());
  const summer = await openSummer(setup, membership);
  const messages = [...holder.encryptRows(rows, { ciphertextsPerMessage: per })].map((m) => relay<HeRowsMessage>(m));
  for (const m of messages) summer.addRows(m);
  const result = relay<HeResultMessage>(summer.finish());
  return { setup, messages, result };
}

describe('grouped intersection-sum with BFV', () => {
  it('decrypts to the plain per-group counts and sums (8 groups, 3000 rows, through the wire)', async () => {
    const { rows, membership } = makeData(1, 3000, 8, 100_000);
    const holder = await openKeyHolder({ jobId: 'j-8', groups: 8, positions: 3000, maxValue: 100_000 });
    try {
      const { messages, result } = await runProtocol(holder, rows, membership);
      expect(holder.layout.ciphertextCount).toBeGreaterThan(2); // several ciphertexts, several messages
      expect(messages.length).toBe(Math.ceil(holder.layout.ciphertextCount / 2));
      expect(holder.decryptResult(result)).toEqual(plainTotals(rows, membership, 8));
    } finally {
      holder.dispose();
    }
  });

  it('also with 3 and 16 groups, no match at all, everything matching, and 0 rows', async () => {
    const cases = [
      { groups: 3, n: 1500, maxValue: 7, rate: 0.3 },
      { groups: 16, n: 800, maxValue: 2 ** 24, rate: 0.7 },
      { groups: 8, n: 700, maxValue: 1000, rate: 0 },
      { groups: 8, n: 700, maxValue: 1000, rate: 1 },
      { groups: 4, n: 0, maxValue: 10, rate: 0.5 },
    ];
    for (const [i, c] of cases.entries()) {
      const { rows, membership } = makeData(10 + i, c.n, c.groups, c.maxValue, c.rate);
      const holder = await openKeyHolder({ jobId: `j-${i}`, groups: c.groups, positions: c.n, maxValue: c.maxValue });
      try {
        const { result } = await runProtocol(holder, rows, membership, 3);
        expect(holder.decryptResult(result)).toEqual(plainTotals(rows, membership, c.groups));
      } finally {
        holder.dispose();
      }
    }
  });

  it('the same matched set twice gives different result ciphertexts (both polynomials) and the same totals', async () => {
    const { rows, membership } = makeData(2, 1200, 8, 500);
    const holder = await openKeyHolder({ jobId: 'j-rr', groups: 8, positions: 1200, maxValue: 500 });
    try {
      const setup = relay<HeSetupMessage>(holder.setupMessage());
      const messages = [...holder.encryptRows(rows)];
      const results: HeResultMessage[] = [];
      for (let run = 0; run < 2; run++) {
        const summer = await openSummer(setup, membership);
        for (const m of messages) summer.addRows(m); // the very same input ciphertexts
        results.push(summer.finish());
      }
      const [a, b] = results.map((r) => r.ciphertext) as [Uint8Array, Uint8Array];
      const at = c0Offset(a, 8192, 3);
      const c1 = at + 8 * 3 * 8192;
      expect(Buffer.compare(a.subarray(at, c1), b.subarray(at, c1))).not.toBe(0);
      expect(Buffer.compare(a.subarray(c1), b.subarray(c1))).not.toBe(0);
      const [va, vb] = results.map((r) => holder.inspectResult(r)) as [KeyHolderView, KeyHolderView];
      const sameSlots = va.slots.filter((x, i) => x === vb.slots[i]).length;
      expect(sameSlots).toBeLessThan(5);
      const expected = plainTotals(rows, membership, 8);
      expect(holder.decryptResult(results[0]!)).toEqual(expected);
      expect(holder.decryptResult(results[1]!)).toEqual(expected);
    } finally {
      holder.dispose();
    }
  });

  it('the key holder\'s whole view: slots are random shares of the lane totals, not per-row-position sums; the noise is flooded', async () => {
    const { rows, membership } = makeData(3, 2000, 8, 1000);
    const holder = await openKeyHolder({ jobId: 'j-view', groups: 8, positions: 2000, maxValue: 1000 });
    try {
      const { result } = await runProtocol(holder, rows, membership);
      const { slots, noiseBudgetBits } = holder.inspectResult(result);
      const { lanesPerRow: L, rowsPerCiphertext: R, ciphertextCount: K } = holder.layout;
      const tMod = 35184371613697n;
      // What an unmasked sum would show: per row position, the matched rows' fields at that position.
      const unmasked = new Array<bigint>(8192).fill(0n);
      for (let row = 0; row < 2000; row++) {
        if (!membership[row]) continue;
        const base = (row % R) * L;
        const g = rows.group[row]!;
        unmasked[base + holder.layout.count[g]!.lane]! += 1n << BigInt(holder.layout.count[g]!.shift);
        unmasked[base + holder.layout.sum[g]!.lane]! += BigInt(rows.value[row]!) << BigInt(holder.layout.sum[g]!.shift);
      }
      expect(K).toBeGreaterThan(1);
      expect(slots.filter((x, i) => x === unmasked[i]).length).toBeLessThan(5);
      // Unmasked values are small (< 2^34 here); shares are uniform modulo t: about half lie above t/2.
      const high = slots.filter((x) => x > tMod / 2n).length;
      expect(high).toBeGreaterThan(3700);
      expect(high).toBeLessThan(4500);
      // The slots no row uses are random too.
      const unused = [...slots.subarray(R * L)];
      expect(unused.filter((x) => x === 0n).length).toBe(0);
      // …yet per lane they add up to exactly the totals.
      for (let l = 0; l < L; l++) {
        let s = 0n;
        let u = 0n;
        for (let r = 0; r < R; r++) { s += slots[r * L + l]!; u += unmasked[r * L + l]!; }
        expect(s % tMod).toBe(u);
      }
      // Flooded: a fresh ciphertext has ≈ 130 bits of budget, an unflooded sum of K ciphertexts
      // still ≈ 80; after flooding to 2^f only log2(q/2t) − f ≈ 134.4 − f bits remain.
      expect(noiseBudgetBits).toBeGreaterThan(0);
      expect(noiseBudgetBits).toBeLessThanOrEqual(Math.ceil(134.5 - holder.flood.floodBits));
      expect(result.floodBits).toBe(holder.flood.floodBits);
      expect(result.statisticalSecurityBits).toBe(40);
    } finally {
      holder.dispose();
    }
  });

  it('refuses a job whose sums could wrap, before any key is made (LAB-E112)', async () => {
    await expect(openKeyHolder({ jobId: 'j-of', groups: 8, positions: 1_000_000, maxValue: 2 ** 25 })).rejects.toMatchObject({ code: 'LAB-E112' });
  });

  it('refuses rows outside the declared shape before it sends anything (LAB-E113)', async () => {
    const holder = await openKeyHolder({ jobId: 'j-rows', groups: 4, positions: 3, maxValue: 10 });
    try {
      const bad = (rows: GroupSumRows, field: string) => expect(() => [...holder.encryptRows(rows)]).toThrow(expect.objectContaining({ code: 'LAB-E113', field }));
      bad({ group: [0, 1, 2], value: [1, 11, 2] }, 'value');
      bad({ group: [0, 1, 2], value: [1, -1, 2] }, 'value');
      bad({ group: [0, 1, 2], value: [1, 2.5, 2] }, 'value');
      bad({ group: [0, 4, 2], value: [1, 1, 2] }, 'group');
      bad({ group: [0, 1], value: [1, 1] }, 'rows');
      const gen = holder.encryptRows({ group: [0, 1, 2], value: [1, 99, 2] });
      expect(() => gen.next()).toThrow(expect.objectContaining({ code: 'LAB-E113' }));
      expect(() => holder.encryptRows({ group: [0, 1, 2], value: [1, 11, 2] }).next()).toThrow(expect.objectContaining({ code: 'LAB-E113' }));
      // the refusal names the row, never the value
      let message = '';
      try {
        holder.encryptRows({ group: [0, 1, 2], value: [1, 12345, 2] }).next();
      } catch (e) {
        message = `${(e as Error).message} ${JSON.stringify(e)}`;
      }
      expect(message).toContain('row 1');
      expect(message).not.toContain('12345');
    } finally {
      holder.dispose();
    }
  });

  it('dispose() frees every SEAL object holding key material; the session then refuses to work (LAB-E116)', async () => {
    const { rows, membership } = makeData(4, 300, 8, 10);
    const holder = await openKeyHolder({ jobId: 'j-free', groups: 8, positions: 300, maxValue: 10 });
    const { result } = await runProtocol(holder, rows, membership);
    expect(liveHandleCount(holder)).toBe(5); // key generator, secret key, public key, encryptor, decryptor
    holder.dispose();
    expect(liveHandleCount(holder)).toBe(0);
    expect(holder.disposed).toBe(true);
    expect(() => holder.decryptResult(result)).toThrow(expect.objectContaining({ code: 'LAB-E116' }));
    expect(() => holder.setupMessage()).toThrow(expect.objectContaining({ code: 'LAB-E116' }));
    expect(() => holder.encryptRows(rows).next()).toThrow(expect.objectContaining({ code: 'LAB-E116' }));
    holder.dispose(); // twice is harmless
  });

  it('the summing party refuses what is out of sequence (LAB-E115) or malformed (LAB-E114)', async () => {
    const { rows, membership } = makeData(5, 4000, 8, 100);
    const holder = await openKeyHolder({ jobId: 'j-seq', groups: 8, positions: 4000, maxValue: 100 });
    const other = await openKeyHolder({ jobId: 'j-seq', groups: 8, positions: 4000, maxValue: 100 });
    try {
      const setup = holder.setupMessage();
      const messages = [...holder.encryptRows(rows, { ciphertextsPerMessage: 1 })];
      expect(messages.length).toBeGreaterThan(2);
      await expect(openSummer(setup, membership.subarray(1))).rejects.toMatchObject({ code: 'LAB-E115' });
      await expect(openSummer(setup, Uint8Array.from(membership, (x) => x * 2))).rejects.toMatchObject({ code: 'LAB-E115' });
      await expect(openSummer({ ...setup, params: { ...setup.params, plainModulus: '35184371613699' } }, membership)).rejects.toMatchObject({ code: 'LAB-E114' });
      await expect(openSummer({ ...setup, params: { ...setup.params, coeffModulusBits: [60, 60, 38] } }, membership)).rejects.toMatchObject({ code: 'LAB-E114' });
      await expect(openSummer({ ...setup, publicKey: setup.publicKey.subarray(0, 1000) }, membership)).rejects.toMatchObject({ code: 'LAB-E114' });

      const summer = await openSummer(setup, membership);
      summer.addRows(messages[0]!);
      expect(() => summer.addRows(messages[0]!)).toThrow(expect.objectContaining({ code: 'LAB-E115' }));
      const foreign = [...other.encryptRows(rows, { ciphertextsPerMessage: 1 })][1]!;
      expect(() => summer.addRows(foreign)).toThrow(expect.objectContaining({ code: 'LAB-E115' }));
      expect(() => summer.addRows({ ...messages[1]!, firstCiphertext: 10_000 })).toThrow(expect.objectContaining({ code: 'LAB-E115' }));
      const corrupt = messages[1]!.ciphertexts[0]!.slice();
      corrupt[20] = corrupt[20]! ^ 0xff; // inside parms_id
      expect(() => summer.addRows({ ...messages[1]!, ciphertexts: [corrupt] })).toThrow(expect.objectContaining({ code: 'LAB-E114' }));
      expect(() => summer.finish()).toThrow(expect.objectContaining({ code: 'LAB-E115' })); // ciphertexts missing
      for (const m of messages.slice(1)) summer.addRows(m);
      const result = summer.finish();
      expect(() => summer.finish()).toThrow(expect.objectContaining({ code: 'LAB-E116' }));
      expect(() => other.decryptResult(result)).toThrow(expect.objectContaining({ code: 'LAB-E115' }));
      expect(holder.decryptResult(result)).toEqual(plainTotals(rows, membership, 8));
      const flipped = result.ciphertext.slice();
      const at = c0Offset(flipped, 8192, 3);
      flipped[at + 8 * 100] = flipped[at + 8 * 100]! ^ 0x01; // one RNS residue of one c0 coefficient off by one
      expect(() => holder.decryptResult({ ...result, ciphertext: flipped })).toThrow(expect.objectContaining({ code: 'LAB-E118' }));
    } finally {
      holder.dispose();
      other.dispose();
    }
  });
  it('rows sharing a position (one identifier, several rows) and dummy positions without rows', async () => {
    // 900 rows on 1000 positions: positions 0…599 hold one row, 600…749 two rows each, 750…999 none
    const position = [...Array.from({ length: 600 }, (_, i) => i), ...Array.from({ length: 300 }, (_, i) => 600 + Math.floor(i / 2))];
    const { rows: base } = makeData(6, 900, 8, 5000);
    const rows: GroupSumRows = { ...base, position };
    const r = rng(7);
    const membership = Uint8Array.from({ length: 1000 }, () => (r() < 0.5 ? 1 : 0));
    const holder = await openKeyHolder({ jobId: 'j-pos', groups: 8, positions: 1000, maxRows: 1024, maxValue: 5000 });
    try {
      const { result } = await runProtocol(holder, rows, membership);
      const expected = Array.from({ length: 8 }, (_, group) => ({ group, count: 0, sum: 0n }));
      position.forEach((p, i) => {
        if (!membership[p]) return;
        expected[rows.group[i]!]!.count++;
        expected[rows.group[i]!]!.sum += BigInt(rows.value[i]!);
      });
      expect(holder.decryptResult(result)).toEqual(expected);
      const bad = (rs: GroupSumRows, field: string) => expect(() => holder.encryptRows(rs).next()).toThrow(expect.objectContaining({ code: 'LAB-E113', field }));
      bad({ ...rows, position: position.map((p, i) => (i === 5 ? 1000 : p)) }, 'position');
      bad({ group: base.group, value: base.value }, 'rows'); // without positions: one row per position expected
      const over = 1025 - 900; // one row more than the declared maxRows
      bad({ group: [...Array.from(base.group), ...new Array<number>(over).fill(0)], value: [...Array.from(base.value), ...new Array<number>(over).fill(1)], position: [...position, ...new Array<number>(over).fill(999)] }, 'rows');
    } finally {
      holder.dispose();
    }
  });

  describe('after the ECDH-PSI step (sandbox/crypto/psi): the key holder is the PSI sender, the summing party the receiver in cardinality mode', () => {
    const pool = new PsiPool(0);
    afterAll(async () => { await pool.close(); });

    it('the totals equal a plain join of the two domains, with duplicate identifiers and padding', async () => {
      const r = rng(8);
      // A (e.g. social): 1500 rows over 1200 person ids (some persons have two rows); B (registry): 1000 ids, 700 of them A's
      const aIds = Array.from({ length: 1500 }, (_, i) => `P${String(i < 1200 ? i : Math.floor(r() * 1200)).padStart(6, '0')}`);
      const aGroup = Array.from({ length: 1500 }, () => Math.floor(r() * 11));
      const aValue = Array.from({ length: 1500 }, () => Math.floor(r() * 3000));
      const bIds = [...Array.from({ length: 700 }, (_, i) => `P${String(i * 1.5 | 0).padStart(6, '0')}`), ...Array.from({ length: 300 }, (_, i) => `Q${i}`)];
      const psi = await runPsiLocally(bIds, aIds, { session: 'job-join', mode: 'cardinality', pool, senderPadTo: 1300 });
      expect(psi.sender.listSize).toBe(1300); // 1200 distinct ids + 100 dummies
      const holder = await openKeyHolder({ jobId: 'job-join', groups: 11, positions: psi.sender.listSize, maxRows: 2048, maxValue: 3000 });
      try {
        const { result } = await runProtocol(holder, { group: aGroup, value: aValue, position: psi.sender.positionOfRow }, psi.receiver.peerMembership);
        const inB = new Set(bIds);
        const expected = Array.from({ length: 11 }, (_, group) => ({ group, count: 0, sum: 0n }));
        aIds.forEach((id, i) => {
          if (!inB.has(id)) return;
          expected[aGroup[i]!]!.count++;
          expected[aGroup[i]!]!.sum += BigInt(aValue[i]!);
        });
        expect(expected.reduce((a, e) => a + e.count, 0)).toBeGreaterThan(500);
        expect(holder.decryptResult(result)).toEqual(expected);
      } finally {
        holder.dispose();
      }
    });
  });
});
