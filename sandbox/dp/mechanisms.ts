import { LabError, t } from '../errors/index.ts';
import { chargeToJson, pureCharge, sequential, zcdpCharge, rhoForApproxDp, type Charge, type ChargeJson, type TablePlan } from './accounting.ts';
import {
  compare, exactValue, formatRational, isInteger, mul, div, parseRational, rational, roundHalfAway, toNumber,
  type Rational, type RationalInput,
} from './rational.ts';
import { assertReleaseRng, Rng } from './rng.ts';
import { sampleDiscreteGaussian, sampleDiscreteLaplace } from './samplers.ts';

/*
 * Noisy counts and sums for researchers (docs/privacy.md).
 *
 * Neighbouring datasets differ by one person added or removed. A person is in at most one cell of a
 * grouping level, and contributes one value per measure, already summed per person and clamped to
 * the catalog's bounds. So a count changes by at most 1 and a clamped sum by at most
 * max(|lower|, |upper|): those are the sensitivities.
 *
 * Values live on a lattice: the integers times a step g (1 for counts and integer measures). A
 * measure value is rounded to the nearest multiple of g (ties away from zero), then clamped; the
 * noise is an integer number of steps, so every output is on the lattice.
 */

/** A measure value: a number, a bigint, or a decimal string (Postgres `numeric`), read exactly. */
export type MeasureValue = number | bigint | string;

/** Clamping bounds of a measure (from the catalog) and its lattice step. */
export interface ClampBounds {
  readonly lower: MeasureValue;
  readonly upper: MeasureValue;
  /** Lattice step g > 0 (default 1); both bounds must be multiples of it. */
  readonly step?: RationalInput;
}

/** The input of a sum: per-person values (clamped here), or a total of values already clamped. */
export type SumInput = { readonly values: readonly MeasureValue[] } | { readonly total: MeasureValue };

/** Gaussian privacy parameters: ρ of zCDP, or (ε, δ) converted to the largest ρ that meets them. */
export type GaussianPrivacy =
  | { readonly rho: RationalInput }
  | { readonly epsilon: RationalInput; readonly delta: number | string };

/** A query's privacy: discrete Laplace with pure ε, or discrete Gaussian (zCDP). */
export type PrivacySpec =
  | { readonly mechanism: 'laplace'; readonly epsilon: RationalInput }
  | ({ readonly mechanism: 'gaussian' } & GaussianPrivacy);

export interface ReleaseOptions {
  /** The randomness; the node:crypto generator by default. A test generator is refused outside tests. */
  readonly rng?: Rng;
  /**
   * Post-processing: a noisy value below 0 is released as 0. Default: on for counts, and for sums
   * whose lower bound is ≥ 0. Does not change the privacy charge.
   */
  readonly nonNegative?: boolean;
}

/** Limits on a single query's parameters (a project's budget is set by policy, default ε 1–3). */
export const LIMITS = {
  epsilon: { min: rational(1n, 10_000n), max: rational(10n) },
  rho: { min: rational(1n, 10n ** 10n), max: rational(50n) },
  delta: { min: 1e-15, max: 1e-3 },
  /** Largest sensitivity in lattice steps (e.g. bounds of ±10^12 at step 0.001). */
  sensitivity: 10n ** 15n,
} as const;

/** What the ledger and the release metadata record about one noisy value (JSON-ready). */
export type NoiseRecord = {
  readonly query: 'count' | 'sum';
  /** Sensitivity in lattice steps (an integer). */
  readonly sensitivity: string;
  /** The lattice step g: released value = integer × g. */
  readonly step: string;
  /** Sums: the clamping bounds, exact. */
  readonly bounds?: { readonly lower: string; readonly upper: string };
  /** The parameters asked for. */
  readonly requested: { readonly epsilon: string } | { readonly rho: string } | { readonly epsilon: string; readonly delta: number };
  /** What was spent (exact ε and ρ parts, accounting.ts). */
  readonly charge: ChargeJson;
  /** Variance of the noise in released units (floating point, for confidence intervals only). */
  readonly variance: number;
  readonly postProcessing: 'clamp-at-zero' | 'none';
} & (
  /** P(x) ∝ exp(−|x|/scale), in lattice steps. */
  | { readonly mechanism: 'discrete-laplace'; readonly scale: string }
  /** P(x) ∝ exp(−x²/(2σ²)), in lattice steps. */
  | { readonly mechanism: 'discrete-gaussian'; readonly sigma2: string }
);

export interface NoisyValue {
  /** The released value: `units` × step (a whole number when the step is 1). */
  readonly value: number;
  /** The released value in lattice steps: always an integer. */
  readonly units: number;
  readonly charge: Charge;
  readonly record: NoiseRecord;
}

type Resolved =
  | { readonly kind: 'laplace'; readonly epsilon: Rational }
  | { readonly kind: 'gaussian'; readonly rho: Rational; readonly requested: NoiseRecord['requested'] };

const param = (field: string, zh: string, en: string): LabError => new LabError('LAB-E120', { field, detail: t(`${field}：${zh}`, `${field}: ${en}`) });
const inRange = (r: Rational, lim: { readonly min: Rational; readonly max: Rational }): boolean =>
  compare(r, lim.min) >= 0 && compare(r, lim.max) <= 0;

function parseEpsilon(input: RationalInput): Rational {
  const e = parseRational(input, 'epsilon', 'LAB-E120');
  if (!inRange(e, LIMITS.epsilon)) throw param('epsilon', 'ε 必须在 [0.0001, 10] 内', 'ε must be in [0.0001, 10]');
  return e;
}

function parseDelta(input: number | string): number {
  const d = typeof input === 'number' ? input : typeof input === 'string' && /^[0-9.eE+-]{1,32}$/.test(input.trim()) ? Number(input) : NaN;
  if (!Number.isFinite(d) || d < LIMITS.delta.min || d > LIMITS.delta.max) throw param('delta', 'δ 必须在 [1e-15, 1e-3] 内', 'δ must be in [1e-15, 1e-3]');
  return d;
}

function resolveGaussian(p: GaussianPrivacy): Resolved {
  if ('rho' in p) {
    const rho = parseRational(p.rho, 'rho', 'LAB-E120');
    if (!inRange(rho, LIMITS.rho)) throw param('rho', 'ρ 必须在 [1e-10, 50] 内', 'ρ must be in [1e-10, 50]');
    return { kind: 'gaussian', rho, requested: { rho: formatRational(rho) } };
  }
  const epsilon = parseEpsilon(p.epsilon);
  const delta = parseDelta(p.delta);
  return { kind: 'gaussian', rho: rhoForApproxDp(epsilon, delta), requested: { epsilon: formatRational(epsilon), delta } };
}

function resolve(spec: PrivacySpec): Resolved {
  if (typeof spec !== 'object' || spec === null) throw param('privacy', '缺少隐私参数', 'missing privacy parameters');
  switch (spec.mechanism) {
    case 'laplace': return { kind: 'laplace', epsilon: parseEpsilon(spec.epsilon) };
    case 'gaussian': return resolveGaussian(spec);
    default: throw param('mechanism', '应为 laplace 或 gaussian', 'expected laplace or gaussian');
  }
}

const chargeOfResolved = (p: Resolved): Charge => (p.kind === 'laplace' ? pureCharge(p.epsilon) : zcdpCharge(p.rho));

/** What one query with this privacy costs a person (validates the parameters). */
export const chargeOf = (spec: PrivacySpec): Charge => chargeOfResolved(resolve(spec));

const bigAbs = (a: bigint): bigint => (a < 0n ? -a : a);

function toSafeNumber(x: bigint): number {
  if (bigAbs(x) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LabError('LAB-E122', { detail: t('噪声结果超出可精确表示的整数范围', 'the noisy value is beyond the exactly representable integers') });
  }
  return Number(x);
}

/** Variance of the discrete Gaussian N_ℤ(0, σ²): σ² to double precision once σ² ≥ 1, summed below. */
function discreteGaussianVariance(sigma2: number): number {
  if (sigma2 >= 1) return sigma2;
  let z = 1;
  let m = 0;
  for (let x = 1; x <= 60; x++) {
    const p = Math.exp((-x * x) / (2 * sigma2));
    z += 2 * p;
    m += 2 * x * x * p;
  }
  return m / z;
}

/** Variance of the discrete Laplace of scale b: 2q/(1 − q)² with q = e^{−1/b}. */
function discreteLaplaceVariance(b: number): number {
  const q = Math.exp(-1 / b);
  return (2 * q) / ((1 - q) * (1 - q));
}

interface Lattice { readonly step: Rational; readonly lower: bigint; readonly upper: bigint; readonly sensitivity: bigint }

const COUNT_LATTICE: Lattice = { step: rational(1n), lower: 0n, upper: 1n, sensitivity: 1n };

/** One query's noise, worked out once: the sampler, the charge and the record (shared by every cell). */
interface Prepared {
  readonly sample: (rng: Rng) => bigint;
  readonly step: Rational;
  readonly charge: Charge;
  readonly record: NoiseRecord;
}

function prepare(query: 'count' | 'sum', lattice: Lattice, p: Resolved, nonNegative: boolean): Prepared {
  const { step, sensitivity } = lattice;
  let sample: (rng: Rng) => bigint;
  let noise: { readonly mechanism: 'discrete-laplace'; readonly scale: string } | { readonly mechanism: 'discrete-gaussian'; readonly sigma2: string };
  let varianceUnits: number;
  if (p.kind === 'laplace') {
    const scale = rational(sensitivity * p.epsilon.den, p.epsilon.num); // Δ/ε
    sample = (rng) => sampleDiscreteLaplace(rng, scale);
    noise = { mechanism: 'discrete-laplace', scale: formatRational(scale) };
    varianceUnits = discreteLaplaceVariance(toNumber(scale));
  } else {
    const sigma2 = rational(sensitivity * sensitivity * p.rho.den, 2n * p.rho.num); // Δ²/(2ρ)
    sample = (rng) => sampleDiscreteGaussian(rng, sigma2);
    noise = { mechanism: 'discrete-gaussian', sigma2: formatRational(sigma2) };
    varianceUnits = discreteGaussianVariance(toNumber(sigma2));
  }
  const charge = chargeOfResolved(p);
  const stepNumber = toNumber(step);
  const record: NoiseRecord = Object.freeze({
    query,
    ...noise,
    sensitivity: `${sensitivity}`,
    step: formatRational(step),
    ...(query === 'sum'
      ? { bounds: { lower: formatRational(mul(rational(lattice.lower), step)), upper: formatRational(mul(rational(lattice.upper), step)) } }
      : {}),
    requested: p.kind === 'laplace' ? { epsilon: formatRational(p.epsilon) } : p.requested,
    charge: chargeToJson(charge),
    variance: varianceUnits * stepNumber * stepNumber,
    postProcessing: nonNegative ? 'clamp-at-zero' : 'none',
  });
  return { sample, step, charge, record };
}

/** Adds fresh noise to `trueUnits` (an integer number of lattice steps). */
function apply(prepared: Prepared, trueUnits: bigint, rng: Rng): NoisyValue {
  const { step } = prepared;
  let noisy = trueUnits + prepared.sample(rng);
  if (prepared.record.postProcessing === 'clamp-at-zero' && noisy < 0n) noisy = 0n;
  const units = toSafeNumber(noisy);
  const value = isInteger(step) ? toSafeNumber(noisy * step.num) : toNumber(mul(rational(noisy), step));
  return { value, units, charge: prepared.charge, record: prepared.record };
}

function release(query: 'count' | 'sum', trueUnits: bigint, lattice: Lattice, p: Resolved, nonNegative: boolean, rng: Rng): NoisyValue {
  assertReleaseRng(rng);
  return apply(prepare(query, lattice, p, nonNegative), trueUnits, rng);
}

function countUnits(count: number | bigint, field = 'count'): bigint {
  if (typeof count === 'bigint' && count >= 0n) return count;
  if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 0) return BigInt(count);
  throw new LabError('LAB-E122', { field, detail: t(`${field} 不是非负整数`, `${field} is not a non-negative integer`) });
}

function boundsError(zh: string, en: string, field = 'bounds'): LabError {
  return new LabError('LAB-E121', { field, detail: t(zh, en) });
}

/** Brings the bounds onto the lattice: both must be multiples of the step; sensitivity ≥ 1 step. */
function latticeOf(bounds: ClampBounds): Lattice {
  if (typeof bounds !== 'object' || bounds === null) throw boundsError('缺少截断界', 'missing clamping bounds');
  const step = parseRational(bounds.step ?? '1', 'step', 'LAB-E121');
  if (step.num <= 0n) throw boundsError('格点步长必须为正', 'the lattice step must be positive', 'step');
  const onLattice = (v: MeasureValue, field: 'lower' | 'upper'): bigint => {
    const q = div(exactValue(v, field, 'LAB-E121'), step);
    if (!isInteger(q)) throw boundsError(`${field} 不是步长 ${formatRational(step)} 的整数倍`, `${field} is not a multiple of the step ${formatRational(step)}`, field);
    return q.num;
  };
  const lower = onLattice(bounds.lower, 'lower');
  const upper = onLattice(bounds.upper, 'upper');
  if (lower > upper) throw boundsError('下界大于上界', 'the lower bound is above the upper bound');
  const sensitivity = bigAbs(lower) > bigAbs(upper) ? bigAbs(lower) : bigAbs(upper);
  if (sensitivity === 0n) throw boundsError('界均为 0，和恒为 0', 'both bounds are 0: the sum is always 0');
  if (sensitivity > LIMITS.sensitivity) throw boundsError('界相对步长过大', 'the bounds are too large for the step');
  return { step, lower, upper, sensitivity };
}

/** A measure value in lattice steps: rounded to the nearest step (ties away from zero), clamped. */
function clampToLattice(v: MeasureValue, lattice: Lattice, field: string): bigint {
  const u = roundHalfAway(div(exactValue(v, field, 'LAB-E122'), lattice.step));
  return u < lattice.lower ? lattice.lower : u > lattice.upper ? lattice.upper : u;
}

function sumUnits(data: SumInput, lattice: Lattice): bigint {
  if (typeof data !== 'object' || data === null) throw new LabError('LAB-E122', { detail: t('和的输入应为 values 或 total', 'a sum needs values or a total') });
  if ('values' in data && Array.isArray(data.values)) {
    let s = 0n;
    data.values.forEach((v, i) => { s += clampToLattice(v, lattice, `values[${i}]`); });
    return s;
  }
  if ('total' in data) return roundHalfAway(div(exactValue(data.total, 'total', 'LAB-E122'), lattice.step));
  throw new LabError('LAB-E122', { detail: t('和的输入应为 values 或 total', 'a sum needs values or a total') });
}

/** Bounds from a catalog column (`ColumnSpec.bounds`); LAB-E121 when the column has none. */
export function boundsFromCatalog(column: { readonly name: string; readonly bounds?: readonly [number, number] }, step?: RationalInput): ClampBounds {
  if (!column.bounds) throw boundsError(`列 ${column.name} 在目录中没有截断界`, `column ${column.name} has no clamping bounds in the catalog`, column.name);
  return { lower: column.bounds[0], upper: column.bounds[1], ...(step !== undefined ? { step } : {}) };
}

/** A count with discrete Laplace noise of scale 1/ε (sensitivity 1): ε-DP. */
export function noisyCount(count: number | bigint, epsilon: RationalInput, options: ReleaseOptions = {}): NoisyValue {
  const p = resolve({ mechanism: 'laplace', epsilon });
  return release('count', countUnits(count), COUNT_LATTICE, p, options.nonNegative ?? true, options.rng ?? Rng.crypto());
}

/** A count with discrete Gaussian noise σ² = 1/(2ρ): ρ-zCDP. */
export function noisyCountGaussian(count: number | bigint, privacy: GaussianPrivacy, options: ReleaseOptions = {}): NoisyValue {
  const p = resolveGaussian(privacy);
  return release('count', countUnits(count), COUNT_LATTICE, p, options.nonNegative ?? true, options.rng ?? Rng.crypto());
}

/** A clamped sum with discrete Laplace noise of scale Δ/ε, Δ = max(|lower|, |upper|) in steps: ε-DP. */
export function noisySum(data: SumInput, bounds: ClampBounds, epsilon: RationalInput, options: ReleaseOptions = {}): NoisyValue {
  const p = resolve({ mechanism: 'laplace', epsilon });
  const lattice = latticeOf(bounds);
  return release('sum', sumUnits(data, lattice), lattice, p, options.nonNegative ?? lattice.lower >= 0n, options.rng ?? Rng.crypto());
}

/** A clamped sum with discrete Gaussian noise σ² = Δ²/(2ρ): ρ-zCDP. */
export function noisySumGaussian(data: SumInput, bounds: ClampBounds, privacy: GaussianPrivacy, options: ReleaseOptions = {}): NoisyValue {
  const p = resolveGaussian(privacy);
  const lattice = latticeOf(bounds);
  return release('sum', sumUnits(data, lattice), lattice, p, options.nonNegative ?? lattice.lower >= 0n, options.rng ?? Rng.crypto());
}

// ---------------------------------------------------------------------------------------------
// Whole tables.

/** One cell of an aggregate table before noise. */
export interface TableCellInput {
  /** The grouping level (roll-up level or grouping set) the cell belongs to. */
  readonly level: string;
  /** The cell's key within its level; unique per level. */
  readonly key: string;
  /** Persons in the cell (when the spec asks for counts). */
  readonly count?: number | bigint;
  /** Per measure, the total of per-person values already clamped to the measure's bounds. */
  readonly sums?: Readonly<Record<string, MeasureValue>>;
}

/** The queries every cell answers. */
export interface TableNoiseSpec {
  readonly count?: PrivacySpec;
  readonly sums?: Readonly<Record<string, { readonly bounds: ClampBounds; readonly privacy: PrivacySpec }>>;
  /** Post-processing of counts (default true); sums follow their lower bound. */
  readonly nonNegativeCounts?: boolean;
}

export interface NoisyCell {
  readonly level: string;
  readonly key: string;
  readonly count?: NoisyValue;
  readonly sums: Readonly<Record<string, NoisyValue>>;
}

export interface NoisyTable {
  readonly cells: readonly NoisyCell[];
  /** Per level: its cells and what one person pays for it (cells in parallel). */
  readonly levels: readonly { readonly level: string; readonly cells: number; readonly charge: Charge }[];
  /** The table's charge: levels in sequence. */
  readonly charge: Charge;
}

interface ResolvedSpec {
  readonly count?: Resolved;
  readonly sums: readonly { readonly name: string; readonly lattice: Lattice; readonly privacy: Resolved }[];
}

function resolveSpec(spec: TableNoiseSpec): ResolvedSpec {
  const sums = Object.entries(spec.sums ?? {}).map(([name, s]) => ({ name, lattice: latticeOf(s.bounds), privacy: resolve(s.privacy) }));
  if (!spec.count && sums.length === 0) throw param('spec', '没有要发布的统计量', 'no query to release');
  return { ...(spec.count ? { count: resolve(spec.count) } : {}), sums };
}

/** The charge of one cell: its count and each sum, in sequence. */
const cellCharge = (r: ResolvedSpec): Charge =>
  sequential([...(r.count ? [chargeOfResolved(r.count)] : []), ...r.sums.map((s) => chargeOfResolved(s.privacy))]);

/**
 * The plan of a table for the ledger, before it runs: every level answers the spec's queries.
 * `jobCharge([planTable(...)])` equals the `charge` `noiseTable` reports for the same levels.
 */
export function planTable(table: string, spec: TableNoiseSpec, levels: readonly string[]): TablePlan {
  const r = resolveSpec(spec);
  const queries = [...(r.count ? [chargeOfResolved(r.count)] : []), ...r.sums.map((s) => chargeOfResolved(s.privacy))];
  return { table, levels: levels.map((level) => ({ level, queries })) };
}

/**
 * Noise for every cell of a table. Each cell answers exactly the spec's queries, each with fresh
 * noise. The cells of one level are disjoint (a person is in at most one; the worker aggregates per
 * person first), so they compose in parallel; levels compose in sequence. A key repeated within a
 * level, or a cell missing a query, is refused (LAB-E122).
 *
 * The cells must be the level's whole public domain (every code of the key's code list, every
 * geography unit), with count 0 where nobody is: which cells appear must not depend on the data.
 */
export function noiseTable(cells: readonly TableCellInput[], spec: TableNoiseSpec, options: { readonly rng?: Rng } = {}): NoisyTable {
  const rng = options.rng ?? Rng.crypto();
  assertReleaseRng(rng);
  const r = resolveSpec(spec);
  const countQuery = r.count ? prepare('count', COUNT_LATTICE, r.count, spec.nonNegativeCounts ?? true) : undefined;
  const sumQueries = r.sums.map((s) => ({ ...s, prepared: prepare('sum', s.lattice, s.privacy, s.lattice.lower >= 0n) }));
  const seen = new Map<string, Set<string>>();
  const malformed = (zh: string, en: string, field?: string): LabError => new LabError('LAB-E122', { ...(field ? { field } : {}), detail: t(zh, en) });
  const out = cells.map((cell, i): NoisyCell => {
    if (typeof cell.level !== 'string' || typeof cell.key !== 'string') throw malformed('单元格缺少层级或键', 'a cell lacks its level or key', `cells[${i}]`);
    const keys = seen.get(cell.level) ?? new Set<string>();
    seen.set(cell.level, keys);
    if (keys.has(cell.key)) throw malformed('同一层级中单元格重复，单元格必须互不相交', 'a cell is repeated within its level; cells of a level must be disjoint', `cells[${i}]`);
    keys.add(cell.key);
    const sumNames = Object.keys(cell.sums ?? {});
    if ((r.count !== undefined) !== (cell.count !== undefined) || sumNames.length !== r.sums.length || r.sums.some((s) => cell.sums?.[s.name] === undefined)) {
      throw malformed('单元格的统计量与规格不符', 'the cell\'s queries do not match the spec', `cells[${i}]`);
    }
    const count = countQuery && cell.count !== undefined ? apply(countQuery, countUnits(cell.count, `cells[${i}].count`), rng) : undefined;
    const sums: Record<string, NoisyValue> = {};
    for (const s of sumQueries) {
      const total = cell.sums?.[s.name];
      if (total === undefined) continue; // checked above
      sums[s.name] = apply(s.prepared, sumUnits({ total }, s.lattice), rng);
    }
    return { level: cell.level, key: cell.key, ...(count ? { count } : {}), sums };
  });
  const perCell = cellCharge(r);
  const levels = [...seen.entries()].map(([level, keys]) => ({ level, cells: keys.size, charge: perCell }));
  return { cells: out, levels, charge: sequential(levels.map((l) => l.charge)) };
}
