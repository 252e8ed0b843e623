import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLabError } from '../errors/index.ts';
import { chiSquareSurvival } from './dp-test-stats.ts';
import { Rng } from './rng.ts';
import { aesCtrSource, scriptedTestRng, seededTestRng } from './test-rng.ts';

afterEach(() => { vi.unstubAllEnvs(); });

/** Chi-square p-value of counts against the uniform distribution. */
function uniformP(counts: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  const e = n / counts.length;
  const stat = counts.reduce((a, o) => a + ((o - e) * (o - e)) / e, 0);
  return chiSquareSurvival(stat, counts.length - 1);
}

describe('uniform integers', () => {
  it('reject a draw at or above n instead of reducing it modulo n', () => {
    // n = 3·2^30 needs 32 bits. The first word 0xffffffff is ≥ n: a rejection sampler discards it and
    // returns the next word (5); `word % n` would answer 2^30 − 1.
    const n = 3 * 2 ** 30;
    expect(scriptedTestRng([0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0]).uniformSmall(n)).toBe(5);
    expect(scriptedTestRng([0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0]).uniformBelow(BigInt(n))).toBe(5n);
    // Bigint path, n = 3·2^62 (64 bits, two words): all-ones is rejected, the next draw is kept.
    const big = 3n << 62n;
    const r = scriptedTestRng([...Array<number>(8).fill(0xff), 7, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.uniformBelow(big)).toBe(7n << 32n);
  });

  it('have no modulo bias: values below n/3 come up a third of the time, not half', () => {
    // With `% n` over 32 (or 64) random bits, [0, 2^30) (resp. [0, 2^62)) would get probability 1/2.
    const rng = seededTestRng('modulo-bias');
    const draws = 60_000;
    let small = 0;
    let smallBig = 0;
    for (let i = 0; i < draws; i++) {
      if (rng.uniformSmall(3 * 2 ** 30) < 2 ** 30) small++;
      if (rng.uniformBelow(3n << 62n) < 1n << 62n) smallBig++;
    }
    const sd = Math.sqrt(draws * (1 / 3) * (2 / 3));
    expect(Math.abs(small - draws / 3)).toBeLessThan(4 * sd);
    expect(Math.abs(smallBig - draws / 3)).toBeLessThan(4 * sd);
  });

  it.each([1, 2, 6, 7, 1000, 2 ** 32])('are uniform on [0, %i)', (n) => {
    const rng = seededTestRng(`uniform-${n}`);
    const buckets = Math.min(n, 20);
    const counts = new Array<number>(buckets).fill(0);
    let inRange = true;
    for (let i = 0; i < 40_000; i++) {
      const x = rng.uniformSmall(n);
      inRange &&= x >= 0 && x < n && Number.isInteger(x);
      const b = Math.floor((x * buckets) / n);
      counts[b] = (counts[b] ?? 0) + 1;
    }
    expect(inRange).toBe(true);
    if (buckets > 1) expect(uniformP(counts)).toBeGreaterThan(1e-4);
  });

  it('are uniform for large bigint n (2^32 + 1, 10^30 + 57)', () => {
    for (const n of [2n ** 32n + 1n, 10n ** 30n + 57n]) {
      const rng = seededTestRng(`uniform-big-${n}`);
      const counts = new Array<number>(16).fill(0);
      let inRange = true;
      for (let i = 0; i < 40_000; i++) {
        const x = rng.uniformBelow(n);
        inRange &&= x >= 0n && x < n;
        const b = Number((x * 16n) / n);
        counts[b] = (counts[b] ?? 0) + 1;
      }
      expect(inRange).toBe(true);
      expect(uniformP(counts)).toBeGreaterThan(1e-4);
    }
  });
});

describe('Bernoulli(num/den)', () => {
  it.each([[1n, 3n], [2n, 7n], [999_999n, 1_000_000n], [123_456_789_012_345n, 987_654_321_098_765n]])('P = %i/%i exactly', (num, den) => {
    const rng = seededTestRng(`bern-${num}/${den}`);
    const n = 100_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (rng.bernoulliFraction(num, den)) hits++;
    const p = Number(num) / Number(den);
    expect(Math.abs(hits - n * p)).toBeLessThan(4.5 * Math.sqrt(n * p * (1 - p)));
  });

  it('is certain at 0 and 1 and refuses probabilities outside [0, 1]', () => {
    const rng = seededTestRng('bern-edges');
    for (let i = 0; i < 100; i++) {
      expect(rng.bernoulliFraction(0n, 5n)).toBe(false);
      expect(rng.bernoulliFraction(5n, 5n)).toBe(true);
    }
    expect(() => rng.bernoulliFraction(6n, 5n)).toThrow();
    expect(() => rng.bernoulliFraction(-1n, 5n)).toThrow();
  });
});

describe('sources', () => {
  it('the seeded test stream is reproducible and depends on the seed', () => {
    const seq = (seed: string) => { const r = seededTestRng(seed); return Array.from({ length: 8 }, () => r.uniformBelow(10n ** 20n)); };
    expect(seq('a')).toEqual(seq('a'));
    expect(seq('a')).not.toEqual(seq('b'));
    // The stream is AES-256-CTR: not all zero, and different across 4 KiB pool refills.
    const src = aesCtrSource('x');
    const a = new Uint8Array(4096); const b = new Uint8Array(4096);
    src.fill(a); src.fill(b);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('the default generator is the node:crypto one, shared by the process', () => {
    expect(Rng.crypto().isCrypto).toBe(true);
    expect(Rng.crypto()).toBe(Rng.crypto());
    expect(seededTestRng('s').isCrypto).toBe(false);
  });

  it('refuses to build a test generator outside a test run (LAB-E123)', () => {
    vi.stubEnv('VITEST', '');
    vi.stubEnv('NODE_ENV', 'production');
    let err: unknown;
    try { seededTestRng('outside'); } catch (e) { err = e; }
    expect(isLabError(err) && err.code).toBe('LAB-E123');
    expect(Rng.crypto().uniformBelow(10n) < 10n).toBe(true);
  });
});
