import { LabError, t } from '../errors/index.ts';
import { add, compare, formatRational, maxOf, rational, readRational, toNumber, ZERO, type Rational } from './rational.ts';

/**
 * Privacy accounting (docs/privacy.md, "Composition").
 *
 * A `Charge` is what releases cost one person, kept as two exact parts:
 * - `epsilon`: pure ε-DP, from discrete Laplace releases (sequential composition adds ε);
 * - `rho`: ρ-zCDP, from discrete Gaussian releases (Bun & Steinke 2016: ρ adds up under composition).
 * A release that is ε-DP and one that is ρ-zCDP, in sequence, are (ε + ρ)-"mixed": both parts are
 * carried and converted to (ε, δ) only when compared with a budget or shown to a person.
 *
 * Sequential composition (the same person in several releases): add both parts.
 * Parallel composition (disjoint cells: each person in at most one): the largest of each part.
 * A job's charge: for every table, its roll-up levels in sequence (a person appears once in every
 * level), the cells of a level in parallel, the queries of one cell (count, each sum) in sequence;
 * the tables of a job in sequence.
 */
export interface Charge {
  /** Pure ε (Laplace releases), exact. */
  readonly epsilon: Rational;
  /** ρ of zCDP (Gaussian releases), exact. */
  readonly rho: Rational;
}

export const NO_CHARGE: Charge = { epsilon: ZERO, rho: ZERO };
export const pureCharge = (epsilon: Rational): Charge => ({ epsilon, rho: ZERO });
export const zcdpCharge = (rho: Rational): Charge => ({ epsilon: ZERO, rho });

/** Sequential composition: the same persons in every release. */
export function sequential(charges: readonly Charge[]): Charge {
  return charges.reduce<Charge>((a, c) => ({ epsilon: add(a.epsilon, c.epsilon), rho: add(a.rho, c.rho) }), NO_CHARGE);
}

/** Parallel composition: releases on disjoint sets of persons. */
export function parallel(charges: readonly Charge[]): Charge {
  return charges.reduce<Charge>((a, c) => ({ epsilon: maxOf(a.epsilon, c.epsilon), rho: maxOf(a.rho, c.rho) }), NO_CHARGE);
}

export const sameCharge = (a: Charge, b: Charge): boolean => compare(a.epsilon, b.epsilon) === 0 && compare(a.rho, b.rho) === 0;

/** One roll-up level (or grouping set) of a table: the queries each of its cells answers. */
export interface LevelPlan {
  readonly level: string;
  /** Charges of the queries every cell of this level answers (count, each sum); cells are disjoint. */
  readonly queries: readonly Charge[];
}
export interface TablePlan { readonly table: string; readonly levels: readonly LevelPlan[] }

export interface JobCharge {
  readonly total: Charge;
  readonly tables: readonly { readonly table: string; readonly total: Charge; readonly levels: readonly { readonly level: string; readonly total: Charge }[] }[];
}

/**
 * The charge of a job, computed from its plan before it runs (the ledger refuses a job that does
 * not fit): per level the queries of one cell in sequence (cells in parallel: the number of cells
 * does not matter), levels of a table in sequence, tables in sequence.
 */
export function jobCharge(tables: readonly TablePlan[]): JobCharge {
  const perTable = tables.map((tb) => {
    const levels = tb.levels.map((l) => ({ level: l.level, total: sequential(l.queries) }));
    return { table: tb.table, total: sequential(levels.map((l) => l.total)), levels };
  });
  return { total: sequential(perTable.map((p) => p.total)), tables: perTable };
}

// ---------------------------------------------------------------------------------------------
// zCDP → (ε, δ). Floating point is fine here: this is accounting, not sampling, and every bound
// below is an upper bound on ε evaluated at a chosen Rényi order α (any α > 1 gives a valid bound).

/** Bun & Steinke 2016, Proposition 1.3: ρ-zCDP ⇒ (ρ + 2√(ρ·ln(1/δ)), δ)-DP. */
export function zcdpEpsilonBunSteinke(rho: number, delta: number): number {
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/**
 * Canonne, Kamath & Steinke 2020, §2.3 (conversion to approximate DP): ρ-zCDP ⇒ (ε, δ)-DP with
 * δ = exp((α−1)(αρ − ε)) · (1 − 1/α)^α / (α − 1) for every α > 1, i.e.
 * ε(α) = αρ + (α·ln(1 − 1/α) − ln(α − 1) + ln(1/δ)) / (α − 1).
 * We minimise over α (a grid on ln(α − 1), then golden-section search) and return the smaller of
 * that and Bun–Steinke's bound; both are valid, this one is tighter.
 */
export function zcdpEpsilon(rho: number, delta: number): number {
  if (!(rho >= 0) || !(delta > 0 && delta < 1)) throw new LabError('LAB-E120', { detail: t('ρ 或 δ 超出范围', 'ρ or δ out of range') });
  if (rho === 0) return 0;
  const L = Math.log(1 / delta);
  const eps = (u: number): number => {
    const am1 = Math.exp(u); // α − 1
    const alpha = 1 + am1;
    return alpha * rho + (alpha * Math.log1p(-1 / alpha) - u + L) / am1;
  };
  let bestU = -10;
  let best = Infinity;
  for (let u = -10; u <= 40; u += 0.25) {
    const e = eps(u);
    if (e < best) { best = e; bestU = u; }
  }
  let lo = bestU - 0.25;
  let hi = bestU + 0.25;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const m1 = hi - g * (hi - lo);
    const m2 = lo + g * (hi - lo);
    if (eps(m1) < eps(m2)) hi = m2; else lo = m1;
  }
  const tight = Math.min(best, eps((lo + hi) / 2));
  return Math.max(0, Math.min(tight, zcdpEpsilonBunSteinke(rho, delta)));
}

/**
 * The (ε, δ) guarantee of a charge at the given δ. A pure charge is (ε, 0). A mixed one takes the
 * better of two valid bounds: ε_pure + ε_zCDP(ρ, δ) (basic composition), or ε_zCDP(ρ + ε_pure²/2, δ)
 * (ε-DP ⇒ ε²/2-zCDP, Bun & Steinke 2016, Proposition 1.4).
 */
export function approxDp(charge: Charge, delta: number): { readonly epsilon: number; readonly delta: number } {
  const ep = toNumber(charge.epsilon);
  if (charge.rho.num === 0n) return { epsilon: ep, delta: 0 };
  const rho = toNumber(charge.rho);
  const a = ep + zcdpEpsilon(rho, delta);
  const b = zcdpEpsilon(rho + (ep * ep) / 2, delta);
  return { epsilon: Math.min(a, b), delta };
}

/** Relative safety margin for floating-point error when a float bound is compared with a target. */
const FLOAT_MARGIN = 1e-9;
const RHO_DEN = 10n ** 15n;

/**
 * The largest ρ (a rational with denominator 10^15, rounded down) whose zCDP guarantee converts to
 * (ε, δ)-DP by `zcdpEpsilon`, with a 10⁻⁹ relative margin. Used to calibrate the discrete
 * Gaussian when a release is asked for in (ε, δ).
 */
export function rhoForApproxDp(epsilon: Rational, delta: number): Rational {
  const target = toNumber(epsilon) * (1 - FLOAT_MARGIN);
  let lo = 0;
  let hi = toNumber(epsilon); // ε_zCDP(ρ, δ) > ρ, so ρ = ε is too much
  for (let i = 0; i < 200 && hi - lo > hi * 1e-14; i++) {
    const mid = (lo + hi) / 2;
    if (zcdpEpsilon(mid, delta) <= target) lo = mid; else hi = mid;
  }
  let num = BigInt(Math.floor(lo * Number(RHO_DEN)));
  while (num > 0n && zcdpEpsilon(Number(num) / Number(RHO_DEN), delta) > target) num -= num / 1_000_000n + 1n;
  if (num <= 0n) {
    throw new LabError('LAB-E120', {
      field: 'epsilon',
      detail: t('ε 相对 δ 过小，无法校准高斯噪声', 'ε is too small for this δ to calibrate Gaussian noise'),
    });
  }
  return rational(num, RHO_DEN);
}

/** A budget: the largest total (ε, δ) a researcher may spend on a project. */
export interface Budget { readonly epsilon: Rational; readonly delta: number }

/**
 * Whether a job's charge fits the budget given what was already spent (the ledger's rule: a job is
 * refused if its charge would exceed the remaining budget). Pure totals compare exactly; totals
 * with a zCDP part compare their (ε, δ) conversion at the budget's δ.
 */
export function fitsBudget(budget: Budget, spent: Charge, job: Charge): boolean {
  const total = sequential([spent, job]);
  if (total.rho.num === 0n) return compare(total.epsilon, budget.epsilon) <= 0;
  return approxDp(total, budget.delta).epsilon <= toNumber(budget.epsilon);
}

/** A charge as JSON text parts (`"1/2"`), for the ledger and release metadata. */
export interface ChargeJson { readonly epsilon: string; readonly rho: string }

export const chargeToJson = (c: Charge): ChargeJson => ({ epsilon: formatRational(c.epsilon), rho: formatRational(c.rho) });

/** Reads a charge back from `chargeToJson`; a malformed or negative part throws LAB-E120. */
export function chargeFromJson(j: ChargeJson): Charge {
  const part = (text: unknown, field: 'epsilon' | 'rho'): Rational => {
    const r = typeof text === 'string' ? readRational(text) : null;
    if (r === null || r.num < 0n) throw new LabError('LAB-E120', { field, detail: t(`${field} 不是非负有理数`, `${field} is not a non-negative rational`) });
    return r;
  };
  return { epsilon: part(j.epsilon, 'epsilon'), rho: part(j.rho, 'rho') };
}
