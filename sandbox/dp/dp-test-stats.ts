/**
 * Statistics for the DP tests (not used by the library): exact pmfs of the discrete Laplace and
 * discrete Gaussian, and a chi-square goodness-of-fit test with its p-value.
 */

/** Discrete Laplace of scale b: P(x) = (e^{1/b} − 1)/(e^{1/b} + 1) · e^{−|x|/b} = tanh(1/(2b)) e^{−|x|/b}. */
export const laplacePmf = (b: number) => (x: number): number => Math.tanh(1 / (2 * b)) * Math.exp(-Math.abs(x) / b);

/** Discrete Gaussian N_ℤ(0, σ²), normalised over ±(12σ + 12) (the mass outside is below 1e-30). */
export function gaussianPmf(sigma2: number): (x: number) => number {
  const m = Math.ceil(12 * Math.sqrt(sigma2) + 12);
  let z = 0;
  for (let x = -m; x <= m; x++) z += Math.exp((-x * x) / (2 * sigma2));
  return (x) => Math.exp((-x * x) / (2 * sigma2)) / z;
}

/** Mean and variance of a pmf over [−m, m]. */
export function momentsOf(pmf: (x: number) => number, m: number): { mean: number; variance: number } {
  let mean = 0;
  let second = 0;
  for (let x = -m; x <= m; x++) { const p = pmf(x); mean += x * p; second += x * x * p; }
  return { mean, variance: second - mean * mean };
}

export function sampleMoments(xs: readonly number[]): { mean: number; variance: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (n - 1);
  return { mean, variance };
}

export interface ChiSquare { readonly statistic: number; readonly df: number; readonly p: number; readonly bins: number }

/**
 * Pearson's chi-square of integer samples against a pmf on ℤ, symmetric support [−m, m] (the outer
 * bins take the tails). Consecutive integers are merged until each bin expects at least
 * `minExpected` draws, so large scales get wide bins and small scales one bin per value.
 */
export function chiSquare(samples: readonly number[], pmf: (x: number) => number, m: number, minExpected = 50): ChiSquare {
  const n = samples.length;
  const uppers: number[] = []; // inclusive upper end of each bin; the last bin is open
  const expected: number[] = [];
  let acc = 0;
  let covered = 0;
  for (let x = -m; x <= m; x++) {
    const p = pmf(x);
    acc += p;
    covered += p;
    if (acc * n >= minExpected) { uppers.push(x); expected.push(acc * n); acc = 0; }
  }
  // The leftover after the last full bin joins it; the mass outside [−m, m] goes half to each end.
  const last = expected.length - 1;
  expected[last] = (expected[last] ?? 0) + acc * n;
  uppers[last] = Infinity;
  const outside = Math.max(0, 1 - covered) / 2;
  expected[0] = (expected[0] ?? 0) + outside * n;
  expected[last] = (expected[last] ?? 0) + outside * n;
  const observed = new Array<number>(expected.length).fill(0);
  for (const s of samples) {
    let lo = 0;
    let hi = uppers.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (s <= (uppers[mid] ?? Infinity)) hi = mid; else lo = mid + 1; }
    observed[lo] = (observed[lo] ?? 0) + 1;
  }
  let statistic = 0;
  expected.forEach((e, i) => { const o = observed[i] ?? 0; statistic += ((o - e) * (o - e)) / e; });
  const df = expected.length - 1;
  return { statistic, df, p: chiSquareSurvival(statistic, df), bins: expected.length };
}

/** P[χ²_df ≥ x] = Q(df/2, x/2), the regularised upper incomplete gamma function. */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

function logGamma(z: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let a = c[0] ?? 0;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] ?? 0) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPre = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // Series for P(a, x).
    let sum = 1 / a;
    let term = sum;
    for (let k = 1; k < 10_000; k++) { term *= x / (a + k); sum += term; if (term < sum * 1e-15) break; }
    return 1 - sum * Math.exp(lnPre);
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b; if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(lnPre) * h;
}
