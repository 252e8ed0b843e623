import { afterEach, describe, expect, it, vi } from 'vitest';
import { findDataset } from '../domains/catalog/index.ts';
import { isLabError } from '../errors/index.ts';
import { jobCharge, rhoForApproxDp, sameCharge } from './accounting.ts';
import { laplacePmf, chiSquare, sampleMoments } from './dp-test-stats.ts';
import {
  boundsFromCatalog, noisyCount, noisyCountGaussian, noisySum, noisySumGaussian, noiseTable, planTable,
  type TableCellInput, type TableNoiseSpec,
} from './mechanisms.ts';
import { formatRational, rational } from './rational.ts';
import { seededTestRng } from './test-rng.ts';

afterEach(() => { vi.unstubAllEnvs(); vi.restoreAllMocks(); });

function codeOf(f: () => unknown): string | undefined {
  try { f(); } catch (e) { return isLabError(e) ? e.code : `not a LabError: ${String(e)}`; }
  return undefined;
}

describe('noisy counts (discrete Laplace, scale 1/ε)', () => {
  it('releases integers, records mechanism, scale and charge', () => {
    const v = noisyCount(120, '0.1', { rng: seededTestRng('count-record') });
    expect(Number.isInteger(v.value)).toBe(true);
    expect(v.units).toBe(v.value);
    expect(v.record).toMatchObject({
      query: 'count', mechanism: 'discrete-laplace', scale: '10', sensitivity: '1', step: '1',
      requested: { epsilon: '1/10' }, charge: { epsilon: '1/10', rho: '0' }, postProcessing: 'clamp-at-zero',
    });
    const q = Math.exp(-1 / 10);
    expect(v.record.variance).toBeCloseTo((2 * q) / (1 - q) ** 2, 9);
    expect(formatRational(v.charge.epsilon)).toBe('1/10');
  });

  it('the noise follows the discrete Laplace of scale 1/ε', () => {
    const rng = seededTestRng('count-dist');
    const noise = Array.from({ length: 20_000 }, () => noisyCount(1000, { num: 1, den: 3 }, { rng }).value - 1000);
    expect(chiSquare(noise, laplacePmf(3), 200).p).toBeGreaterThan(1e-4);
  });

  it('clamps negative noisy counts to 0 by default (post-processing), and can leave them', () => {
    const rng = seededTestRng('count-zero');
    const clamped = Array.from({ length: 2000 }, () => noisyCount(0, '0.5', { rng }).value);
    expect(Math.min(...clamped)).toBe(0);
    expect(clamped.some((x) => x > 0)).toBe(true);
    const raw = Array.from({ length: 2000 }, () => noisyCount(0, '0.5', { rng, nonNegative: false }));
    expect(raw.some((x) => x.value < 0)).toBe(true);
    expect(raw[0]?.record.postProcessing).toBe('none');
  });

  it.each([
    ['0', 'LAB-E120'], ['-1', 'LAB-E120'], ['abc', 'LAB-E120'], ['11', 'LAB-E120'], ['0.00001', 'LAB-E120'], ['1e-3', 'LAB-E120'],
    [{ num: 1, den: 0 }, 'LAB-E120'], [{ num: 1.5, den: 2 }, 'LAB-E120'], [{ num: 1, den: -2 }, 'LAB-E120'],
  ] as const)('refuses ε = %o', (epsilon, code) => {
    expect(codeOf(() => noisyCount(5, epsilon))).toBe(code);
  });

  it('accepts ε as a decimal, a fraction or integers, exactly', () => {
    const rng = seededTestRng('eps-forms');
    expect(noisyCount(5, '0.25', { rng }).record).toMatchObject({ scale: '4' });
    expect(noisyCount(5, '2/3', { rng }).record).toMatchObject({ scale: '3/2' });
    expect(noisyCount(5, { num: 3n, den: 10n }, { rng }).record.charge.epsilon).toBe('3/10');
    expect(noisyCount(5, '10', { rng }).record).toMatchObject({ scale: '1/10' });
  });

  it.each([-1, 1.5, Number.NaN])('refuses the count %s (LAB-E122)', (count) => {
    expect(codeOf(() => noisyCount(count, '1'))).toBe('LAB-E122');
  });
});

describe('noisy sums (clamped, discrete Laplace of scale Δ/ε)', () => {
  // The same seed draws the same noise, so two releases differ exactly by their true sums.
  const same = (seed: string) => ({ rng: seededTestRng(seed), nonNegative: false });

  it('clamps each value to the bounds before summing; sensitivity = max(|lower|, |upper|)', () => {
    const bounds = { lower: 0, upper: 100 };
    const fromValues = noisySum({ values: [-5, 3, 200, 50] }, bounds, '1', same('sum-clamp'));
    expect(fromValues.value).toBe(noisySum({ total: 153 }, bounds, '1', same('sum-clamp')).value); // 0 + 3 + 100 + 50
    expect(fromValues.value).not.toBe(noisySum({ total: 248 }, bounds, '1', same('sum-clamp')).value); // unclamped
    expect(fromValues.record).toMatchObject({ query: 'sum', sensitivity: '100', scale: '100', bounds: { lower: '0', upper: '100' } });
    const neg = noisySum({ values: [-500, 20] }, { lower: -300, upper: 100 }, '1', same('sum-neg'));
    expect(neg.value).toBe(noisySum({ total: -280 }, { lower: -300, upper: 100 }, '1', same('sum-neg')).value);
    expect(neg.record.sensitivity).toBe('300');
    expect(neg.record.postProcessing).toBe('none'); // lower bound < 0: no clamping at zero by default
  });

  it('rounds non-integer measures to the stated lattice (nearest step, ties away from zero); outputs stay on it', () => {
    const bounds = { lower: '0', upper: '10.00', step: '0.01' };
    const a = noisySum({ values: ['1.005', 2.5, '-0.005'] }, bounds, '1', same('sum-lattice'));
    // 1.005 → 1.01, 2.5 → 2.50, −0.005 → −0.01 → clamped to 0: total 3.51 = 351 steps.
    expect(a.units).toBe(noisySum({ total: '3.51' }, bounds, '1', same('sum-lattice')).units);
    expect(Number.isInteger(a.units)).toBe(true);
    expect(a.value).toBeCloseTo(a.units / 100, 12);
    expect(a.record).toMatchObject({ step: '1/100', sensitivity: '1000', scale: '1000', bounds: { lower: '0', upper: '10' } });
    const rng = seededTestRng('lattice-many');
    for (let i = 0; i < 200; i++) {
      const v = noisySum({ values: [0.3, 0.7] }, bounds, '0.5', { rng });
      expect(Number.isInteger(v.units)).toBe(true);
      expect(Math.round(v.value * 100)).toBe(v.units);
    }
  });

  it('takes its bounds from the catalog', () => {
    const wage = findDataset('social.employment')?.columns.find((c) => c.name === 'monthly_wage');
    expect(wage).toBeDefined();
    if (!wage) return;
    const bounds = boundsFromCatalog(wage);
    expect(bounds).toEqual({ lower: 0, upper: 100_000 });
    expect(noisySum({ values: [5000, 250_000] }, bounds, '1', { rng: seededTestRng('wage') }).record.sensitivity).toBe('100000');
    const district = findDataset('social.employment')?.columns.find((c) => c.geoLevel !== undefined);
    expect(codeOf(() => boundsFromCatalog(district ?? { name: 'x' }))).toBe('LAB-E121');
  });

  it.each([
    [{ lower: 10, upper: 0 }], [{ lower: 0, upper: 0 }], [{ lower: 0.5, upper: 10 }], [{ lower: 0, upper: 10, step: '0' }],
    [{ lower: 0, upper: '10.005', step: '0.01' }], [{ lower: Number.NaN, upper: 1 }], [{ lower: 0, upper: 1e300 }],
  ])('refuses bounds %o (LAB-E121)', (bounds) => {
    expect(codeOf(() => noisySum({ total: 1 }, bounds, '1'))).toBe('LAB-E121');
  });

  it('refuses malformed values (LAB-E122)', () => {
    expect(codeOf(() => noisySum({ values: [1, Number.POSITIVE_INFINITY] }, { lower: 0, upper: 10 }, '1'))).toBe('LAB-E122');
    expect(codeOf(() => noisySum({ values: ['12abc'] }, { lower: 0, upper: 10 }, '1'))).toBe('LAB-E122');
  });
});

describe('discrete Gaussian variants', () => {
  it('ρ given: σ² = Δ²/(2ρ), charge ρ', () => {
    const c = noisyCountGaussian(50, { rho: '1/2' }, { rng: seededTestRng('g-count') });
    expect(c.record).toMatchObject({ mechanism: 'discrete-gaussian', sigma2: '1', charge: { epsilon: '0', rho: '1/2' }, requested: { rho: '1/2' } });
    const s = noisySumGaussian({ values: [10, 20] }, { lower: 0, upper: 40 }, { rho: '0.02' }, { rng: seededTestRng('g-sum') });
    expect(s.record).toMatchObject({ sigma2: '40000', sensitivity: '40', charge: { rho: '1/50' } });
    expect(Number.isInteger(s.value)).toBe(true);
  });

  it('(ε, δ) given: the calibrated ρ is charged, and (ε, δ) recorded as asked', () => {
    const c = noisyCountGaussian(50, { epsilon: '1', delta: 1e-6 }, { rng: seededTestRng('g-epsdelta') });
    const rho = rhoForApproxDp(rational(1n), 1e-6);
    expect(c.record.charge).toEqual({ epsilon: '0', rho: formatRational(rho) });
    expect(c.record.requested).toEqual({ epsilon: '1', delta: 1e-6 });
  });

  it('the noise has variance σ²', () => {
    const rng = seededTestRng('g-var');
    const noise = Array.from({ length: 20_000 }, () => noisyCountGaussian(10_000, { rho: '0.005' }, { rng }).value - 10_000);
    expect(Math.abs(sampleMoments(noise).variance / 100 - 1)).toBeLessThan(0.05);
  });

  it.each([
    [{ rho: '0' }], [{ rho: '51' }], [{ epsilon: '1', delta: 0 }], [{ epsilon: '1', delta: 0.5 }], [{ epsilon: '1', delta: 'x' }],
    [{ epsilon: '0', delta: 1e-6 }],
  ])('refuses %o (LAB-E120)', (privacy) => {
    expect(codeOf(() => noisyCountGaussian(5, privacy))).toBe('LAB-E120');
  });
});

describe('whole tables', () => {
  const spec: TableNoiseSpec = {
    count: { mechanism: 'laplace', epsilon: '0.1' },
    sums: { wage: { bounds: { lower: 0, upper: 100_000 }, privacy: { mechanism: 'gaussian', rho: '0.01' } } },
  };
  const cells: TableCellInput[] = [
    { level: 'district', key: '440104', count: 300, sums: { wage: 2_500_000 } },
    { level: 'district', key: '440105', count: 0, sums: { wage: 0 } },
    { level: 'street', key: '440104001', count: 120, sums: { wage: 1_000_000 } },
    { level: 'street', key: '440104002', count: 180, sums: { wage: 1_500_000 } },
    { level: 'street', key: '440105001', count: 0, sums: { wage: 0 } },
  ];

  it('noises every cell, on the lattice, and charges levels in sequence, cells in parallel', () => {
    const t = noiseTable(cells, spec, { rng: seededTestRng('table') });
    expect(t.cells).toHaveLength(5);
    for (const c of t.cells) {
      expect(Number.isInteger(c.count?.value)).toBe(true);
      expect(c.count?.value).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(c.sums.wage?.value)).toBe(true);
    }
    expect(t.levels.map((l) => [l.level, l.cells])).toEqual([['district', 2], ['street', 3]]);
    expect(formatRational(t.charge.epsilon)).toBe('1/5'); // 2 levels × ε 0.1, whatever the number of cells
    expect(formatRational(t.charge.rho)).toBe('1/50');
    expect(sameCharge(t.charge, jobCharge([planTable('wages', spec, ['district', 'street'])]).total)).toBe(true);
  });

  it('gives every cell fresh noise', () => {
    const many: TableCellInput[] = Array.from({ length: 50 }, (_, i) => ({ level: 'grid', key: `g${i}`, count: 100, sums: { wage: 0 } }));
    const t = noiseTable(many, spec, { rng: seededTestRng('fresh') });
    expect(new Set(t.cells.map((c) => c.count?.value)).size).toBeGreaterThan(10);
  });

  it('refuses a key repeated within a level, or a cell that does not answer the spec (LAB-E122)', () => {
    expect(codeOf(() => noiseTable([...cells, { level: 'street', key: '440104001', count: 1, sums: { wage: 0 } }], spec))).toBe('LAB-E122');
    expect(codeOf(() => noiseTable([{ level: 'district', key: 'a', count: 1 }], spec))).toBe('LAB-E122');
    expect(codeOf(() => noiseTable([{ level: 'district', key: 'a', count: 1, sums: { wage: 0, other: 1 } }], spec))).toBe('LAB-E122');
    expect(codeOf(() => noiseTable([{ level: 'district', key: 'a', sums: { wage: 0 } }], spec))).toBe('LAB-E122');
    expect(codeOf(() => noiseTable(cells, {}))).toBe('LAB-E120');
  });
});

describe('randomness of releases', () => {
  it('uses node:crypto by default and never Math.random', () => {
    const spy = vi.spyOn(Math, 'random');
    for (let i = 0; i < 200; i++) {
      noisyCount(10, '1');
      noisySumGaussian({ total: 10 }, { lower: 0, upper: 5 }, { epsilon: '1', delta: 1e-6 });
    }
    noiseTable([{ level: 'd', key: 'a', count: 3 }], { count: { mechanism: 'laplace', epsilon: '1' } });
    expect(spy).not.toHaveBeenCalled();
  });

  it('refuses a seeded generator outside a test run (LAB-E123)', () => {
    const rng = seededTestRng('outside');
    vi.stubEnv('VITEST', '');
    vi.stubEnv('NODE_ENV', 'production');
    expect(codeOf(() => noisyCount(5, '1', { rng }))).toBe('LAB-E123');
    expect(codeOf(() => noiseTable([{ level: 'd', key: 'a', count: 3 }], { count: { mechanism: 'laplace', epsilon: '1' } }, { rng }))).toBe('LAB-E123');
    expect(Number.isInteger(noisyCount(5, '1').value)).toBe(true);
  });
});
