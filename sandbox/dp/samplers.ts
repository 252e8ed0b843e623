import { LabError, t } from '../errors/index.ts';
import { isqrt, type Rational } from './rational.ts';
import type { Rng } from './rng.ts';

/*
 * Exact samplers after C. L. Canonne, G. Kamath, T. Steinke, "The Discrete Gaussian for
 * Differential Privacy", NeurIPS 2020, arXiv:2004.00010, Algorithms 1–3 (exact sampling).
 *
 * Every quantity is an integer or a bigint rational; the only randomness is exact uniform integers
 * and Bernoulli(num/den) from `Rng`. There is no floating point on this path, so the output
 * distribution is exactly the stated pmf (up to the quality of the random bytes), and no output
 * carries the low-bit artefacts that let Mironov (CCS 2012) tell floating-point Laplace noise
 * apart for neighbouring inputs. Outputs are integers (the lattice ℤ; mechanisms.ts scales it).
 */

const bad = (en: string, zh: string): LabError => new LabError('LAB-E001', { detail: t(zh, en) });

/**
 * Bernoulli(exp(−num/den)) for 0 ≤ num/den ≤ 1 (Algorithm 1, first part): K ← 1; while
 * Bernoulli(γ/K) succeeds, K ← K + 1; return whether K is odd. P[K > k] = γ^k/k!, so
 * P[K odd] = Σ_k (−γ)^k/k! = exp(−γ).
 */
function bernoulliExpAtMostOne(rng: Rng, num: bigint, den: bigint): boolean {
  let k = 1n;
  while (rng.bernoulliFraction(num, den * k)) k += 1n;
  return (k & 1n) === 1n;
}

/**
 * Bernoulli(exp(−γ)) for a rational γ ≥ 0 (Algorithm 1): for γ > 1, ⌊γ⌋ draws of Bernoulli(exp(−1))
 * must all succeed, then one Bernoulli(exp(−(γ − ⌊γ⌋))).
 */
export function bernoulliExp(rng: Rng, gamma: Rational): boolean {
  const { num, den } = gamma;
  if (num < 0n || den < 1n) throw bad('Bernoulli(exp(−γ)) needs γ ≥ 0', 'Bernoulli(exp(−γ)) 要求 γ ≥ 0');
  if (num <= den) return bernoulliExpAtMostOne(rng, num, den);
  const whole = num / den;
  for (let i = 0n; i < whole; i++) if (!bernoulliExpAtMostOne(rng, 1n, 1n)) return false;
  return bernoulliExpAtMostOne(rng, num - whole * den, den);
}

/**
 * Discrete Laplace on ℤ with scale b = num/den > 0: P[X = x] = (e^{1/b} − 1)/(e^{1/b} + 1) · e^{−|x|/b}
 * (Algorithm 2, with the paper's t = num and s = den, output scale t/s).
 *
 * 1. U uniform in [0, t), accepted with probability exp(−U/t); V ≥ 0 geometric: the number of
 *    Bernoulli(exp(−1)) successes before the first failure. X = U + tV is geometric with
 *    P[X = x] ∝ exp(−x/t).
 * 2. Y = ⌊X/s⌋ is geometric with P[Y = y] ∝ exp(−y·s/t).
 * 3. A fair sign B; (B = 1, Y = 0) is rejected so that 0 is not counted twice; return (1 − 2B)·Y.
 */
export function sampleDiscreteLaplace(rng: Rng, scale: Rational): bigint {
  const tt = scale.num;
  const s = scale.den;
  if (tt < 1n || s < 1n) throw bad('discrete Laplace needs a positive scale', '离散拉普拉斯需要正的尺度');
  for (;;) {
    const u = rng.uniformBelow(tt);
    if (!bernoulliExp(rng, { num: u, den: tt })) continue;
    let v = 0n;
    while (bernoulliExpAtMostOne(rng, 1n, 1n)) v += 1n;
    const y = (u + tt * v) / s;
    const negative = rng.uniformSmall(2) === 1;
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/**
 * Discrete Gaussian on ℤ with variance parameter σ² = num/den > 0:
 * P[X = x] = e^{−x²/(2σ²)} / Σ_y e^{−y²/(2σ²)} (Algorithm 3). With t = ⌊σ⌋ + 1, draw Y from the
 * discrete Laplace of scale t and accept it with probability exp(−(|Y| − σ²/t)² / (2σ²)); the
 * exponent is the rational (|Y|·den·t − num)² / (2·num·den·t²). ⌊σ⌋ = ⌊√⌊σ²⌋⌋ exactly.
 */
export function sampleDiscreteGaussian(rng: Rng, sigma2: Rational): bigint {
  const a = sigma2.num;
  const b = sigma2.den;
  if (a < 1n || b < 1n) throw bad('discrete Gaussian needs σ² > 0', '离散高斯需要 σ² > 0');
  const tt = isqrt(a / b) + 1n;
  const lap: Rational = { num: tt, den: 1n };
  const gammaDen = 2n * a * b * tt * tt;
  for (;;) {
    const y = sampleDiscreteLaplace(rng, lap);
    const absY = y < 0n ? -y : y;
    const d = absY * b * tt - a;
    if (bernoulliExp(rng, { num: d * d, den: gammaDen })) return y;
  }
}
