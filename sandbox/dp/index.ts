/**
 * Differential privacy for researchers' releases (docs/privacy.md). A pure library: no database,
 * no HTTP. External researchers receive only noisy aggregates made here.
 *
 * Noisy values (mechanisms.ts) — each returns `{ value, units, charge, record }`: the released
 * value (on the lattice: an integer number of steps), what it cost (`Charge`, exact), and a
 * JSON-ready `NoiseRecord` (mechanism, scale or σ², sensitivity, step, bounds, parameters asked
 * for, variance, post-processing) for the ledger and the release metadata.
 *
 *   noisyCount(count, epsilon, options?)                 discrete Laplace, scale 1/ε, ε-DP
 *   noisyCountGaussian(count, { rho } | { epsilon, delta }, options?)   discrete Gaussian, ρ-zCDP
 *   noisySum({ values } | { total }, bounds, epsilon, options?)         clamped, scale Δ/ε
 *   noisySumGaussian({ values } | { total }, bounds, privacy, options?) clamped, σ² = Δ²/(2ρ)
 *   noiseTable(cells, spec, options?) → { cells, levels, charge }      a whole table, per level
 *   planTable(table, spec, levels) → TablePlan                          its charge before it runs
 *   boundsFromCatalog(column, step?) → ClampBounds                       the catalog's bounds
 *   chargeOf(privacySpec) → Charge
 *
 * Rationals (rational.ts): parseRational(input, field, code), formatRational(r) ("1/3"), toNumber(r),
 *   decimalCeil(r, digits) ("0.333334": rounded up, for ledgers that keep ε as a decimal).
 *
 * ε, ρ and lattice steps are exact rationals: `"0.5"`, `"1/3"` or `{ num, den }` (RationalInput);
 * δ is a number. Limits per query in `LIMITS` (ε ∈ [0.0001, 10], ρ ∈ [1e-10, 50], δ ∈ [1e-15, 1e-3]);
 * out of range → LAB-E120; bad bounds or step → LAB-E121; malformed cells/values → LAB-E122.
 *
 * Accounting (accounting.ts) — `Charge = { epsilon, rho }` (pure ε part, zCDP ρ part, exact):
 *   sequential(charges), parallel(charges), jobCharge(tablePlans) → { total, tables }
 *   approxDp(charge, delta) → { epsilon, delta }   zcdpEpsilon(rho, delta)   rhoForApproxDp(ε, δ)
 *   fitsBudget({ epsilon, delta }, spent, job) → boolean     chargeToJson / chargeFromJson
 *
 * Samplers (samplers.ts, Canonne–Kamath–Steinke 2020, arXiv:2004.00010, Algorithms 1–3):
 *   bernoulliExp(rng, γ), sampleDiscreteLaplace(rng, scale), sampleDiscreteGaussian(rng, σ²)
 * Randomness (rng.ts): `Rng.crypto()` (node:crypto), the default everywhere. A seeded generator
 * exists for tests only (test-rng.ts, not exported here); the mechanisms refuse it outside tests
 * (LAB-E123).
 */
export {
  noisyCount, noisyCountGaussian, noisySum, noisySumGaussian, noiseTable, planTable, boundsFromCatalog, chargeOf, LIMITS,
  type ClampBounds, type GaussianPrivacy, type MeasureValue, type NoiseRecord, type NoisyCell, type NoisyTable, type NoisyValue,
  type PrivacySpec, type ReleaseOptions, type SumInput, type TableCellInput, type TableNoiseSpec,
} from './mechanisms.ts';
export {
  approxDp, chargeFromJson, chargeToJson, fitsBudget, jobCharge, NO_CHARGE, parallel, pureCharge, rhoForApproxDp, sameCharge,
  sequential, zcdpCharge, zcdpEpsilon, zcdpEpsilonBunSteinke,
  type Budget, type Charge, type ChargeJson, type JobCharge, type LevelPlan, type TablePlan,
} from './accounting.ts';
export { decimalCeil, formatRational, parseRational, toNumber, type Rational, type RationalInput } from './rational.ts';
export { bernoulliExp, sampleDiscreteGaussian, sampleDiscreteLaplace } from './samplers.ts';
export { Rng } from './rng.ts';
