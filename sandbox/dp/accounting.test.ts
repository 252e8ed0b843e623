import { describe, expect, it } from 'vitest';
import { isLabError } from '../errors/index.ts';
import {
  approxDp, chargeFromJson, chargeToJson, fitsBudget, jobCharge, NO_CHARGE, parallel, pureCharge, rhoForApproxDp, sameCharge,
  sequential, zcdpCharge, zcdpEpsilon, zcdpEpsilonBunSteinke, type Charge,
} from './accounting.ts';
import { decimalCeil, formatRational, rational, toNumber } from './rational.ts';

const r = (num: bigint, den = 1n) => rational(num, den);
const show = (c: Charge) => ({ epsilon: formatRational(c.epsilon), rho: formatRational(c.rho) });

/**
 * δ for ρ-zCDP at ε, the CKS 2020 (§2.3) formula evaluated independently of the code under
 * test: the optimal order α solves (2α − 1)ρ − ε + ln(1 − 1/α) = 0 (bisection on the derivative).
 */
function cksDelta(rho: number, eps: number): number {
  let lo = 1.000001;
  let hi = (eps + 1) / (2 * rho) + 2;
  for (let i = 0; i < 200; i++) {
    const a = (lo + hi) / 2;
    if ((2 * a - 1) * rho - eps + Math.log1p(-1 / a) < 0) lo = a; else hi = a;
  }
  const a = (lo + hi) / 2;
  return Math.exp((a - 1) * (a * rho - eps) + a * Math.log1p(-1 / a)) / (a - 1);
}

describe('composition', () => {
  it('sequential adds both parts exactly; parallel takes the largest of each', () => {
    const a: Charge = { epsilon: r(1n, 3n), rho: r(1n, 10n) };
    const b: Charge = { epsilon: r(1n, 6n), rho: r(1n, 5n) };
    expect(show(sequential([a, b]))).toEqual({ epsilon: '1/2', rho: '3/10' });
    expect(show(parallel([a, b]))).toEqual({ epsilon: '1/3', rho: '1/5' });
    expect(show(sequential([]))).toEqual({ epsilon: '0', rho: '0' });
    expect(sameCharge(parallel([a, a, a]), a)).toBe(true);
    // Ten tenths are exactly one (no floating-point drift).
    expect(show(sequential(Array.from({ length: 10 }, () => pureCharge(r(1n, 10n)))))).toEqual({ epsilon: '1', rho: '0' });
  });

  it('a job: levels of a roll-up in sequence, cells of a level in parallel, tables in sequence', () => {
    const count = pureCharge(r(1n, 10n));
    const sum = pureCharge(r(1n, 5n));
    const levels = ['district', 'street', 'community'].map((level) => ({ level, queries: [count, sum] }));
    const job = jobCharge([
      { table: 'age-by-district', levels },
      { table: 'wage', levels: [{ level: 'district', queries: [zcdpCharge(r(1n, 8n))] }] },
    ]);
    expect(show(job.tables[0]?.levels[1]?.total ?? NO_CHARGE)).toEqual({ epsilon: '3/10', rho: '0' });
    expect(show(job.tables[0]?.total ?? NO_CHARGE)).toEqual({ epsilon: '9/10', rho: '0' });
    expect(show(job.total)).toEqual({ epsilon: '9/10', rho: '1/8' });
  });
});

describe('zCDP → (ε, δ)', () => {
  it.each([[0.5, 1e-6], [0.01, 1e-9], [2, 1e-5], [1e-5, 1e-10], [0.125, 1e-3]])('ρ = %s, δ = %s: the CKS bound holds, is tight, and beats Bun–Steinke', (rho, delta) => {
    const eps = zcdpEpsilon(rho, delta);
    expect(cksDelta(rho, eps)).toBeLessThanOrEqual(delta * (1 + 1e-6));
    expect(cksDelta(rho, eps * 0.999)).toBeGreaterThan(delta);
    expect(eps).toBeLessThan(zcdpEpsilonBunSteinke(rho, delta));
  });

  it('Bun–Steinke Proposition 1.3 in numbers', () => {
    expect(zcdpEpsilonBunSteinke(0.5, Math.exp(-2))).toBeCloseTo(0.5 + 2, 12);
  });

  it('pure charges convert to (ε, 0); mixed ones take the better of two valid bounds', () => {
    expect(approxDp(pureCharge(r(3n, 4n)), 1e-6)).toEqual({ epsilon: 0.75, delta: 0 });
    // A large pure part: adding ε is better than converting it to ε²/2-zCDP.
    const big = approxDp({ epsilon: r(1n, 2n), rho: r(1n, 10n) }, 1e-6);
    expect(big.delta).toBe(1e-6);
    expect(big.epsilon).toBe(0.5 + zcdpEpsilon(0.1, 1e-6));
    expect(big.epsilon).toBeLessThan(zcdpEpsilon(0.1 + 0.125, 1e-6));
    // A small one: converting it (ρ + ε²/2) is better.
    const small = approxDp({ epsilon: r(1n, 20n), rho: r(1n, 10n) }, 1e-6);
    expect(small.epsilon).toBe(zcdpEpsilon(0.1 + 0.00125, 1e-6));
    expect(small.epsilon).toBeLessThan(0.05 + zcdpEpsilon(0.1, 1e-6));
  });

  it('calibrates ρ from (ε, δ): the largest ρ that meets the target, beyond the closed-form Bun–Steinke ρ', () => {
    for (const [eps, delta] of [[1, 1e-6], [0.1, 1e-9], [3, 1e-5]] as const) {
      const rho = rhoForApproxDp(r(BigInt(eps * 10), 10n), delta);
      expect((10n ** 15n) % rho.den).toBe(0n);
      const rhoN = toNumber(rho);
      expect(zcdpEpsilon(rhoN, delta)).toBeLessThanOrEqual(eps);
      expect(zcdpEpsilon(rhoN * 1.001, delta)).toBeGreaterThan(eps);
      const L = Math.log(1 / delta);
      expect(rhoN).toBeGreaterThan((Math.sqrt(L + eps) - Math.sqrt(L)) ** 2);
    }
  });
});

describe('budget', () => {
  it('pure charges compare exactly: the budget may be used up to the last fraction, not beyond', () => {
    const budget = { epsilon: r(1n), delta: 1e-6 };
    const spent = pureCharge(r(7n, 10n));
    expect(fitsBudget(budget, spent, pureCharge(r(3n, 10n)))).toBe(true);
    expect(fitsBudget(budget, spent, pureCharge(r(300_000_001n, 1_000_000_000n)))).toBe(false);
  });

  it('charges with a zCDP part compare their (ε, δ) at the budget\'s δ', () => {
    const budget = { epsilon: r(1n), delta: 1e-6 };
    const rho = rhoForApproxDp(r(1n), 1e-6);
    expect(fitsBudget(budget, NO_CHARGE, zcdpCharge(rho))).toBe(true);
    expect(fitsBudget(budget, zcdpCharge(r(1n, 10n ** 6n)), zcdpCharge(rho))).toBe(false);
  });
});

describe('charge JSON', () => {
  it('round-trips exactly, also for terms beyond 18 digits', () => {
    const c: Charge = { epsilon: r(1n, 3n), rho: r(123_456_789_012_345_678_901n, 10n ** 30n) };
    const back = chargeFromJson(chargeToJson(c));
    expect(sameCharge(back, c)).toBe(true);
    expect(chargeToJson(c)).toEqual({ epsilon: '1/3', rho: '123456789012345678901/1000000000000000000000000000000' });
  });

  it.each([{ epsilon: '0.5', rho: '0' }, { epsilon: '-1', rho: '0' }, { epsilon: '1/0', rho: '0' }])('refuses %o (LAB-E120)', (j) => {
    let err: unknown;
    try { chargeFromJson(j); } catch (e) { err = e; }
    expect(isLabError(err) && err.code).toBe('LAB-E120');
  });
});

describe('decimal charges', () => {
  it('rounds up, exactly when the decimal fits', () => {
    expect(decimalCeil(r(3n, 10n), 6)).toBe('0.3');
    expect(decimalCeil(r(1n, 3n), 6)).toBe('0.333334');
    expect(decimalCeil(r(2n), 6)).toBe('2');
    expect(decimalCeil(r(1n, 3n), 0)).toBe('1');
    expect(decimalCeil(r(0n), 6)).toBe('0');
  });
});
