import { afterEach, describe, expect, it, vi } from 'vitest';
import { chiSquare, chiSquareSurvival, gaussianPmf, laplacePmf, momentsOf, sampleMoments } from './dp-test-stats.ts';
import { rational, toNumber, type Rational } from './rational.ts';
import { Rng } from './rng.ts';
import { bernoulliExp, sampleDiscreteGaussian, sampleDiscreteLaplace } from './samplers.ts';
import { seededTestRng } from './test-rng.ts';

const N = 100_000;
/** Fixed seeds: the draws are the same every run. A p-value below this fails the test. */
const ALPHA = 1e-4;

function draw(n: number, f: () => bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = f();
    if (typeof x !== 'bigint') throw new Error('not an integer');
    out.push(Number(x));
  }
  return out;
}

afterEach(() => { vi.restoreAllMocks(); });

describe('chi-square helper', () => {
  it('gives known p-values', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(124.34211340400407, 100)).toBeCloseTo(0.05, 5);
  });
});

describe('Bernoulli(exp(−γ)) (CKS Algorithm 1)', () => {
  it.each([
    ['0', rational(0n)], ['1/7', rational(1n, 7n)], ['1/2', rational(1n, 2n)], ['1', rational(1n)],
    ['3/2', rational(3n, 2n)], ['10/3', rational(10n, 3n)], ['8', rational(8n)],
  ])('γ = %s: frequency matches exp(−γ)', (_label, gamma: Rational) => {
    const rng = seededTestRng(`bexp-${_label}`);
    const n = 200_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (bernoulliExp(rng, gamma)) hits++;
    const p = Math.exp(-toNumber(gamma));
    if (p === 1) { expect(hits).toBe(n); return; }
    const z = (hits - n * p) / Math.sqrt(n * p * (1 - p));
    expect(Math.abs(z)).toBeLessThan(4);
  });
});

const laplaceScales: [string, Rational][] = [
  ['1/3', rational(1n, 3n)], ['1', rational(1n)], ['5/2', rational(5n, 2n)], ['10', rational(10n)], ['1000', rational(1000n)],
];

describe('discrete Laplace (CKS Algorithm 2)', () => {
  it.each(laplaceScales)('scale %s: chi-square against the exact pmf, mean and variance', (label, scale) => {
    const b = toNumber(scale);
    const rng = seededTestRng(`dlap-${label}`);
    const xs = draw(N, () => sampleDiscreteLaplace(rng, scale));
    const m = Math.ceil(40 * b) + 5;
    const pmf = laplacePmf(b);
    const fit = chiSquare(xs, pmf, m);
    expect(fit.bins).toBeGreaterThan(2);
    expect(fit.p).toBeGreaterThan(ALPHA);
    const exact = momentsOf(pmf, m);
    const q = Math.exp(-1 / b);
    expect(exact.variance).toBeCloseTo((2 * q) / (1 - q) ** 2, 6);
    const got = sampleMoments(xs);
    expect(Math.abs(got.mean)).toBeLessThan(5 * Math.sqrt(exact.variance / N));
    expect(Math.abs(got.variance / exact.variance - 1)).toBeLessThan(0.04);
  });

  it('the test has power: draws of scale 10 are rejected against the pmf of scale 10.5', () => {
    const rng = seededTestRng('dlap-power');
    const xs = draw(N, () => sampleDiscreteLaplace(rng, rational(10n)));
    expect(chiSquare(xs, laplacePmf(10.5), 500).p).toBeLessThan(1e-6);
  });
});

const gaussianVariances: [string, Rational][] = [
  ['1/4', rational(1n, 4n)], ['1', rational(1n)], ['2/3', rational(2n, 3n)], ['10', rational(10n)],
  ['1000/7', rational(1000n, 7n)], ['10^6', rational(1_000_000n)],
];

describe('discrete Gaussian (CKS Algorithm 3)', () => {
  it.each(gaussianVariances)('σ² = %s: chi-square against the exact pmf, mean and variance', (label, sigma2) => {
    const s2 = toNumber(sigma2);
    const rng = seededTestRng(`dgauss-${label}`);
    const xs = draw(N, () => sampleDiscreteGaussian(rng, sigma2));
    const m = Math.ceil(12 * Math.sqrt(s2) + 12);
    const pmf = gaussianPmf(s2);
    const fit = chiSquare(xs, pmf, m);
    expect(fit.bins).toBeGreaterThan(2);
    expect(fit.p).toBeGreaterThan(ALPHA);
    const exact = momentsOf(pmf, m);
    expect(exact.variance).toBeLessThanOrEqual(s2 * (1 + 1e-12)); // CKS: Var ≤ σ²
    const got = sampleMoments(xs);
    expect(Math.abs(got.mean)).toBeLessThan(5 * Math.sqrt(exact.variance / N));
    expect(Math.abs(got.variance / exact.variance - 1)).toBeLessThan(0.04);
  });

  it('the test has power: draws of σ² = 1000/7 are rejected against the pmf of σ² = 150', () => {
    const rng = seededTestRng('dgauss-power');
    const xs = draw(N, () => sampleDiscreteGaussian(rng, rational(1000n, 7n)));
    expect(chiSquare(xs, gaussianPmf(150), 200).p).toBeLessThan(1e-6);
  });
});

describe('sampling path', () => {
  it('never calls Math.random (the default generator is node:crypto)', () => {
    const spy = vi.spyOn(Math, 'random');
    const rng = Rng.crypto();
    expect(rng.isCrypto).toBe(true);
    for (let i = 0; i < 2000; i++) {
      sampleDiscreteLaplace(rng, rational(7n, 3n));
      sampleDiscreteGaussian(rng, rational(1_000_000n, 3n));
      bernoulliExp(rng, rational(5n, 2n));
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it('outputs integers only', () => {
    const rng = Rng.crypto();
    for (let i = 0; i < 1000; i++) {
      expect(typeof sampleDiscreteLaplace(rng, rational(3n, 7n))).toBe('bigint');
      expect(typeof sampleDiscreteGaussian(rng, rational(5n, 9n))).toBe('bigint');
    }
  });

  it('draws one value in well under a millisecond at typical scales (t ≤ 1000, σ² ≤ 10^6)', () => {
    const rng = Rng.crypto();
    const n = 5000;
    const start = performance.now();
    for (let i = 0; i < n; i++) { sampleDiscreteLaplace(rng, rational(1000n)); sampleDiscreteGaussian(rng, rational(1_000_000n)); }
    const perDraw = (performance.now() - start) / (2 * n);
    expect(perDraw).toBeLessThan(0.1);
  });
});
