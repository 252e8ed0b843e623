import { buildGeography, type CityGeography } from '../geography/city-geography.ts';
import { addMonths, dayFromYmd, flat, formatDay, monthStart, parseIsoDate, ymdFromDay } from './dates.ts';
import { ORIGIN_PROVINCES } from './origins.data.ts';
import { cumulative, seedKey, type SeedKey } from './prng.ts';

/** Bumped whenever the same seed and size would produce different content. */
export const GENERATOR_VERSION = 'gz-synth-2';

/** Person tasks per city, fixed whatever the thread count: determinism depends on it. */
export const PERSON_TASKS = 20;
/** ID-number sequence slots per (region, birth date, sex) owned by one person task (20 × 24 = 480). */
export const SLOTS_PER_TASK = 24;
/** Slots 480 … 498 are reserved for landlords (owner_id_number), who are not in the person universe. */
export const OWNER_SLOT_FROM = 480;
export const OWNER_SLOTS = 19;
/** House tasks per city. */
export const HOUSE_TASKS = 4;
/** Oldest person generated (years). */
export const MAX_AGE = 100;

/** Household templates: weights and expected sizes (docs/data.md explains each). */
export const LOCAL_TEMPLATES = [
  { kind: 'elder_alone', weight: 0.065, size: 1 },
  { kind: 'elder_couple', weight: 0.10, size: 2 },
  { kind: 'single', weight: 0.11, size: 1 },
  { kind: 'couple', weight: 0.13, size: 2 },
  { kind: 'nuclear', weight: 0.37, size: 3.3 },
  { kind: 'three_gen', weight: 0.165, size: 4.8 },
  { kind: 'single_parent', weight: 0.06, size: 2 },
] as const;
export const FLOATING_TEMPLATES = [
  { kind: 'worker', weight: 0.50, size: 1 },
  { kind: 'couple', weight: 0.18, size: 2 },
  { kind: 'family', weight: 0.24, size: 3.45 },
  { kind: 'with_parent', weight: 0.03, size: 2 },
  { kind: 'shared', weight: 0.05, size: 3 },
] as const;

export type LocalTemplate = (typeof LOCAL_TEMPLATES)[number]['kind'];
export type FloatingTemplate = (typeof FLOATING_TEMPLATES)[number]['kind'];

/**
 * Everything a generator thread needs, derived from (persons, seed, asOf) alone: the geography,
 * sampling tables, houses per grid, and the scenario dates. Cheap to rebuild in every thread.
 */
export interface CityPlan {
  readonly persons: number;
  readonly seed: string;
  readonly asOf: number;
  readonly asOfText: string;
  /** W = (wStart, asOf]: the 12 months before asOf; wStart = asOf − 12 months. */
  readonly wStart: number;
  /** Q = [qStart, asOf]: the three calendar months ending at asOf. */
  readonly qStart: number;
  /** Oldest birth date generated; ID counters are indexed by asOf − birth. */
  readonly minBirth: number;
  readonly geo: CityGeography;
  readonly key: SeedKey;
  readonly houseKey: SeedKey;
  readonly pFloatingHousehold: number;
  readonly cumLocalGrid: Float64Array;
  readonly cumFloatingGrid: Float64Array;
  /** Cumulative grid weight (residents), sliced by district range for work places. */
  readonly cumGrid: Float64Array;
  readonly cumDistrict: Float64Array;
  readonly cumLocalTemplate: Float64Array;
  readonly cumFloatingTemplate: Float64Array;
  /** houseStart[g] … houseStart[g + 1] − 1 are grid g's house numbers (0-based); house_id = number + 1. */
  readonly houseStart: Int32Array;
  readonly totalHouses: number;
  /** Region codes: 0 … 10 the districts (locals), then floating people's origin counties. */
  readonly regionCodes: readonly string[];
  readonly cumOrigin: Float64Array;
  readonly districtCount: number;
  /** Per grid: 'district\tstreet\tcommunity\tgrid' codes, the four geography columns of a row. */
  readonly gridGeoText: readonly string[];
}

export function buildPlan(persons: number, seed: string, asOfText: string): CityPlan {
  const asOf = parseIsoDate(asOfText);
  if (asOf === undefined) throw new Error(`bad asOf ${asOfText}`);
  const [y, m] = ymdFromDay(asOf);
  const geo = buildGeography(persons, seed);
  const grids = geo.gridCodes.length;

  const local = new Float64Array(grids);
  const floating = new Float64Array(grids);
  let floatingPersons = 0;
  for (let g = 0; g < grids; g++) {
    const w = geo.gridWeight[g] ?? 0;
    const f = geo.gridFloatingShare[g] ?? 0;
    local[g] = w * (1 - f);
    floating[g] = w * f;
    floatingPersons += w * f;
  }
  const floatingShare = floatingPersons / persons;
  const localSize = LOCAL_TEMPLATES.reduce((a, t) => a + t.weight * t.size, 0);
  const floatingSize = FLOATING_TEMPLATES.reduce((a, t) => a + t.weight * t.size, 0);
  // P(floating household) so that the floating share of persons matches the geography's.
  const fh = floatingShare / floatingSize;
  const lh = (1 - floatingShare) / localSize;
  const pFloatingHousehold = fh / (fh + lh);

  // Rental houses: enough for the expected renting households of the grid.
  const houseStart = new Int32Array(grids + 1);
  let total = 0;
  for (let g = 0; g < grids; g++) {
    houseStart[g] = total;
    const uv = geo.gridUrbanVillage[g] === 1;
    const renting = ((floating[g] ?? 0) / floatingSize) * 0.85 + ((local[g] ?? 0) / localSize) * 0.12;
    total += Math.max(1, Math.round(renting / (uv ? 4 : 1.5)));
  }
  houseStart[grids] = total;

  const regionCodes = [...geo.districts.map((d) => d.code)];
  const originWeights: number[] = [];
  for (const p of ORIGIN_PROVINCES) {
    for (const code of p.codes) {
      regionCodes.push(code);
      originWeights.push(p.share / p.codes.length);
    }
  }
  if (regionCodes.length > 255) throw new Error('too many region codes for the ID counters');

  return {
    persons, seed, asOf, asOfText: formatDay(asOf),
    wStart: addMonths(asOf, -12),
    qStart: addMonths(dayFromYmd(y, m, 1), -2),
    minBirth: addMonths(asOf, -12 * (MAX_AGE + 1)),
    geo,
    key: seedKey(seed, 'city', persons),
    houseKey: seedKey(seed, 'houses', persons),
    pFloatingHousehold,
    cumLocalGrid: cumulative(local),
    cumFloatingGrid: cumulative(floating),
    cumGrid: cumulative(geo.gridWeight),
    cumDistrict: cumulative(geo.districts.map((_, d) => sumRange(geo.gridWeight, geo.districtGridFrom[d] ?? 0, geo.districtGridTo[d] ?? 0))),
    cumLocalTemplate: cumulative(LOCAL_TEMPLATES.map((t) => t.weight)),
    cumFloatingTemplate: cumulative(FLOATING_TEMPLATES.map((t) => t.weight)),
    houseStart, totalHouses: total,
    regionCodes, cumOrigin: cumulative(originWeights),
    districtCount: geo.districts.length,
    gridGeoText: geo.gridCodes.map((gc) => flat(`${gc.slice(0, 6)}\t${gc.slice(0, 9)}\t${gc.slice(0, 12)}\t${gc}`)),
  };
}

function sumRange(a: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i] ?? 0;
  return s;
}

/** Person index range [from, to) of a person task. */
export function personTaskRange(persons: number, task: number): [number, number] {
  return [Math.floor((persons * task) / PERSON_TASKS), Math.floor((persons * (task + 1)) / PERSON_TASKS)];
}

/** Grid range [from, to) whose houses a house task generates. */
export function houseTaskRange(plan: CityPlan, task: number): [number, number] {
  const grids = plan.geo.gridCodes.length;
  return [Math.floor((grids * task) / HOUSE_TASKS), Math.floor((grids * (task + 1)) / HOUSE_TASKS)];
}

export { monthStart };
