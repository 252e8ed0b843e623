import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ageAt, formatDay } from './dates.ts';
import type { CityPlan } from './city-plan.ts';
import { cosineInt8, SYNTHETIC_MODEL_ID, SYNTHETIC_THRESHOLD } from '../../crypto/face-match/templates.ts';

/**
 * The true answers to the acceptance scenarios for one seed and size, computed from the rows the
 * generator emits, person by person (and house by house), while they are emitted. The scenario
 * definitions are in docs/data.md; this file implements them literally on "facts": the values of
 * the emitted rows that the definitions read. Nothing here looks at how the rows were generated.
 */

export const AGE_BANDS_S1 = ['0-14', '15-24', '25-44', '45-59', '60-79', '80+'] as const;
export const AGE_BANDS_S7 = ['0-4', '5-9', '10-14', '15-19', '20-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54', '55-59', '60-64', '65-69', '70-74', '75-79', '80-84', '85+'] as const;
export const S2_TAGS = [
  'elderly_alone', 'childless_elderly', 'pregnant', 'chronic_any', 'hypertension', 'diabetes', 'severe_mental',
  'disabled', 'severe_disability', 'dibao', 'tekun', 'floating', 'elderly_80',
] as const;
export type S2Tag = (typeof S2_TAGS)[number];
export const S4A_SOURCES = ['employment', 'tenancy', 'visit'] as const;
export const S4B_REASONS = ['deceased', 'inactive'] as const;
export const S5_OUTCOMES = ['pass', 'fail', 'unusable'] as const;

/** Sentinel for a NULL date. */
export const NO_DATE = -1_000_000;

/** The values of one person's emitted rows that the scenarios read (indices into the plan's geography). */
export interface PersonFacts {
  idNumber: string;
  birth: number;
  registry: null | { active: boolean; floating: boolean; sex: 0 | 1; district: number; community: number; grid: number; registeredOn: number };
  employment: { id: number; start: number; end: number; district: number }[];
  insurance: { first: number; last: number }[];
  tenancy: { id: number; start: number; end: number; houseDistrict: number }[];
  /** face: the visit's probe template (null: unusable capture or no photo). */
  visits: { id: number; day: number; district: number; face?: Int8Array | null }[];
  /** The reference template of registry.reference_photo (null: none). */
  faceReference: Int8Array | null;
  chronic: { condition: string; lastVisit: number; community: number }[];
  pregnancy: { registeredOn: number; ongoing: boolean; community: number }[];
  death: boolean;
  elderlyAlone: null | { childless: boolean; community: number };
  disability: null | { severe: boolean; community: number };
  subsidies: { type: string; since: number; until: number; community: number }[];
}

export function emptyFacts(idNumber: string, birth: number): PersonFacts {
  return {
    idNumber, birth, registry: null, employment: [], insurance: [], tenancy: [], visits: [], faceReference: null, chronic: [], pregnancy: [],
    death: false, elderlyAlone: null, disability: null, subsidies: [],
  };
}

/** Truth aggregated over some persons and houses; plain data, so it crosses threads by structured clone. */
export interface TruthPartial {
  s1: Uint32Array;
  s2: Uint32Array;
  s3: Uint32Array;
  s3Houses: number[];
  s4aTotal: number;
  s4a: Uint32Array;
  s4aIds: string[];
  s4b: Uint32Array;
  s4bIds: string[];
  s4c: Uint32Array;
  s4cIds: string[];
  s5: Uint32Array;
  s5Fail: number[];
  s5Unusable: number[];
  s6a: Uint32Array;
  s6b: Uint32Array;
  s7: Uint32Array;
}

export function emptyTruth(plan: CityPlan): TruthPartial {
  const D = plan.districtCount;
  return {
    s1: new Uint32Array(plan.geo.gridCodes.length * 2 * 2 * AGE_BANDS_S1.length),
    s2: new Uint32Array(S2_TAGS.length * plan.geo.communities.length),
    s3: new Uint32Array(D), s3Houses: [],
    s4aTotal: 0, s4a: new Uint32Array(S4A_SOURCES.length * D), s4aIds: [],
    s4b: new Uint32Array(D * 2), s4bIds: [],
    s4c: new Uint32Array(D), s4cIds: [],
    s5: new Uint32Array(D * S5_OUTCOMES.length), s5Fail: [], s5Unusable: [],
    s6a: new Uint32Array(D), s6b: new Uint32Array(D),
    s7: new Uint32Array(D * AGE_BANDS_S7.length * 2),
  };
}

export function mergeTruth(into: TruthPartial, from: TruthPartial): void {
  const add = (a: Uint32Array, b: Uint32Array) => { for (let i = 0; i < a.length; i++) a[i] = (a[i] ?? 0) + (b[i] ?? 0); };
  add(into.s1, from.s1); add(into.s2, from.s2); add(into.s3, from.s3); add(into.s4a, from.s4a); add(into.s4b, from.s4b);
  add(into.s4c, from.s4c); add(into.s5, from.s5); add(into.s6a, from.s6a); add(into.s6b, from.s6b); add(into.s7, from.s7);
  into.s4aTotal += from.s4aTotal;
  for (const x of from.s3Houses) into.s3Houses.push(x);
  for (const x of from.s5Fail) into.s5Fail.push(x);
  for (const x of from.s5Unusable) into.s5Unusable.push(x);
  into.s4aIds.push(...packIds(from.s4aIds));
  into.s4bIds.push(...packIds(from.s4bIds));
  into.s4cIds.push(...packIds(from.s4cIds));
}

/**
 * ID lists are kept packed while merging (10 M persons give ≈ 800 000 listed IDs): ID numbers are
 * always 18 characters, so a list of them is stored as one string of 18-character pieces
 * (≈ 18 bytes per ID instead of ≈ 48 for separate strings). Other values are kept as they are.
 */
export const ID_LENGTH = 18;
function packIds(ids: readonly string[]): string[] {
  if (ids.length === 0) return [];
  return ids.every((x) => x.length === ID_LENGTH) ? [ids.join('')] : [...ids];
}
function unpackIds(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const x of list) {
    if (x.length > ID_LENGTH && x.length % ID_LENGTH === 0) {
      for (let i = 0; i < x.length; i += ID_LENGTH) out.push(x.slice(i, i + ID_LENGTH));
    } else out.push(x);
  }
  return out;
}

function bandS1(age: number): number {
  return age <= 14 ? 0 : age <= 24 ? 1 : age <= 44 ? 2 : age <= 59 ? 3 : age <= 79 ? 4 : 5;
}
function bandS7(age: number): number {
  return Math.min(17, Math.floor(age / 5));
}
function inc(a: Uint32Array, i: number): void {
  a[i] = (a[i] ?? 0) + 1;
}
const TAG = Object.fromEntries(S2_TAGS.map((x, i) => [x, i])) as Record<S2Tag, number>;

/*
 * The functions below are written as plain loops without closures: they run for every person
 * (tsx wraps every closure it creates, which costs more than the work here).
 */

/** Adds one person (all of their emitted rows) to the truth. */
export function addPerson(t: TruthPartial, plan: CityPlan, p: PersonFacts): void {
  const { asOf, wStart, qStart } = plan;
  const D = plan.districtCount;
  const C = plan.geo.communities.length;
  const reg = p.registry;

  // S1, S7 and the registry-based S2 tags: active registry persons.
  if (reg?.active) {
    const age = ageAt(p.birth, asOf);
    inc(t.s1, ((reg.grid * 2 + (reg.floating ? 1 : 0)) * 2 + reg.sex) * AGE_BANDS_S1.length + bandS1(age));
    if (reg.floating) {
      inc(t.s7, (reg.district * AGE_BANDS_S7.length + bandS7(age)) * 2 + reg.sex);
      inc(t.s2, TAG.floating * C + reg.community);
    }
    if (age >= 80) inc(t.s2, TAG.elderly_80 * C + reg.community);
  }

  // S2 tags from civil and health rows (a person's rows within one dataset share one community).
  if (p.elderlyAlone) {
    inc(t.s2, TAG.elderly_alone * C + p.elderlyAlone.community);
    if (p.elderlyAlone.childless) inc(t.s2, TAG.childless_elderly * C + p.elderlyAlone.community);
  }
  for (const x of p.pregnancy) {
    if (x.ongoing) { inc(t.s2, TAG.pregnant * C + x.community); break; }
  }
  if (p.chronic.length > 0) {
    let hyp = -1, dia = -1, men = -1;
    for (const x of p.chronic) {
      if (x.condition === 'hypertension' && hyp < 0) hyp = x.community;
      else if (x.condition === 'diabetes' && dia < 0) dia = x.community;
      else if (x.condition === 'severe_mental' && men < 0) men = x.community;
    }
    inc(t.s2, TAG.chronic_any * C + (p.chronic[0]?.community ?? 0));
    if (hyp >= 0) inc(t.s2, TAG.hypertension * C + hyp);
    if (dia >= 0) inc(t.s2, TAG.diabetes * C + dia);
    if (men >= 0) inc(t.s2, TAG.severe_mental * C + men);
  }
  if (p.disability) {
    inc(t.s2, TAG.disabled * C + p.disability.community);
    if (p.disability.severe) inc(t.s2, TAG.severe_disability * C + p.disability.community);
  }
  if (p.subsidies.length > 0) {
    let dibao = -1, tekun = -1;
    for (const x of p.subsidies) {
      if (!(x.since <= asOf && (x.until === NO_DATE || x.until > asOf))) continue;
      if (x.type === 'dibao' && dibao < 0) dibao = x.community;
      else if (x.type === 'tekun' && tekun < 0) tekun = x.community;
    }
    if (dibao >= 0) inc(t.s2, TAG.dibao * C + dibao);
    if (tekun >= 0) inc(t.s2, TAG.tekun * C + tekun);
  }

  // S4a: seen in W, absent from the registry. The most recent row per source: greatest date, then greatest id.
  if (!reg) {
    const emp = latestOverlapping(p.employment, wStart, asOf);
    const ten = latestOverlapping(p.tenancy, wStart, asOf);
    const vis = latestVisit(p.visits, wStart, asOf);
    if (emp || ten || vis) {
      t.s4aTotal++;
      t.s4aIds.push(p.idNumber);
      if (emp) inc(t.s4a, 0 * D + emp.district);
      if (ten) inc(t.s4a, 1 * D + ten.houseDistrict);
      if (vis) inc(t.s4a, 2 * D + vis.district);
    }
  }

  if (reg?.active) {
    // S4b: deceased, or registered ≥ 12 months and no activity in W.
    if (p.death) {
      inc(t.s4b, reg.district * 2 + 0);
      t.s4bIds.push(p.idNumber);
    } else if (reg.registeredOn <= wStart && !activeInW(p, wStart, asOf)) {
      inc(t.s4b, reg.district * 2 + 1);
      t.s4bIds.push(p.idNumber);
    }
    // S4c: registered locals whose residence seen elsewhere is in another district.
    if (!reg.floating) {
      let seen = -1;
      const ten = latestActiveAt(p.tenancy, asOf);
      if (ten) seen = ten.houseDistrict;
      else {
        const vis = latestVisit(p.visits, wStart, asOf);
        if (vis) seen = vis.district;
      }
      if (seen >= 0 && seen !== reg.district) {
        inc(t.s4c, reg.district);
        t.s4cIds.push(p.idNumber);
      }
    }
  }

  // S5: face verification of the grid visits in Q, by the visit's district: unusable without a
  // probe template or without the card holder's reference, else pass when cosine ≥ the threshold.
  for (const v of p.visits) {
    if (v.day < qStart || v.day > asOf) continue;
    let outcome = 2;
    if (v.face && p.faceReference) {
      const c = cosineInt8(v.face, p.faceReference);
      if (!Number.isNaN(c)) outcome = c >= SYNTHETIC_THRESHOLD ? 0 : 1;
    }
    inc(t.s5, v.district * 3 + outcome);
    if (outcome === 1) t.s5Fail.push(v.id);
    else if (outcome === 2) t.s5Unusable.push(v.id);
  }

  // S6a: floating persons registered in Q (any status).
  if (reg && reg.floating && reg.registeredOn >= qStart && reg.registeredOn <= asOf) inc(t.s6a, reg.district);

  // S6b: first sighting in any domain; ties go to the source in the order registry, employment,
  // tenancy, visit, insurance, then to the lowest row id.
  let bestDay = Infinity, bestPrio = 9, bestId = Infinity, bestDistrict = -1;
  if (reg) { bestDay = reg.registeredOn; bestPrio = 0; bestId = 0; bestDistrict = reg.district; }
  for (const e of p.employment) {
    if (e.start < bestDay || (e.start === bestDay && (1 < bestPrio || (bestPrio === 1 && e.id < bestId)))) { bestDay = e.start; bestPrio = 1; bestId = e.id; bestDistrict = e.district; }
  }
  for (const e of p.tenancy) {
    if (e.start < bestDay || (e.start === bestDay && (2 < bestPrio || (bestPrio === 2 && e.id < bestId)))) { bestDay = e.start; bestPrio = 2; bestId = e.id; bestDistrict = e.houseDistrict; }
  }
  for (const v of p.visits) {
    if (v.day < bestDay || (v.day === bestDay && (3 < bestPrio || (bestPrio === 3 && v.id < bestId)))) { bestDay = v.day; bestPrio = 3; bestId = v.id; bestDistrict = v.district; }
  }
  if (reg) {
    for (const x of p.insurance) {
      if (x.first < bestDay) { bestDay = x.first; bestPrio = 4; bestId = 0; bestDistrict = reg.district; }
    }
  }
  if (bestDistrict >= 0 && bestDay >= qStart && bestDay <= asOf) inc(t.s6b, bestDistrict);
}

/** Any activity in W = (wStart, asOf] (the S4b list of sources). */
function activeInW(p: PersonFacts, wStart: number, asOf: number): boolean {
  for (const x of p.insurance) if (x.last > wStart && x.last <= asOf) return true;
  for (const e of p.employment) if (e.start <= asOf && (e.end === NO_DATE || e.end > wStart)) return true;
  for (const e of p.tenancy) if (e.start <= asOf && (e.end === NO_DATE || e.end > wStart)) return true;
  for (const v of p.visits) if (v.day > wStart && v.day <= asOf) return true;
  for (const c of p.chronic) if (c.lastVisit > wStart && c.lastVisit <= asOf) return true;
  for (const x of p.pregnancy) if (x.registeredOn > wStart && x.registeredOn <= asOf) return true;
  return false;
}

/** Among rows overlapping W (start ≤ asOf, end null or > wStart): greatest start, then greatest id. */
function latestOverlapping<R extends { id: number; start: number; end: number }>(rows: R[], wStart: number, asOf: number): R | undefined {
  let best: R | undefined;
  for (const r of rows) {
    if (!(r.start <= asOf && (r.end === NO_DATE || r.end > wStart))) continue;
    if (!best || r.start > best.start || (r.start === best.start && r.id > best.id)) best = r;
  }
  return best;
}

/** Among rows active at asOf (start ≤ asOf, end null or > asOf): greatest start, then greatest id. */
function latestActiveAt<R extends { id: number; start: number; end: number }>(rows: R[], asOf: number): R | undefined {
  let best: R | undefined;
  for (const r of rows) {
    if (!(r.start <= asOf && (r.end === NO_DATE || r.end > asOf))) continue;
    if (!best || r.start > best.start || (r.start === best.start && r.id > best.id)) best = r;
  }
  return best;
}

/** Among visits in W: latest day, then greatest id. */
function latestVisit<R extends { id: number; day: number }>(rows: R[], wStart: number, asOf: number): R | undefined {
  let best: R | undefined;
  for (const r of rows) {
    if (!(r.day > wStart && r.day <= asOf)) continue;
    if (!best || r.day > best.day || (r.day === best.day && r.id > best.id)) best = r;
  }
  return best;
}

/** Adds one rental house: S3 when it has an incident in W and no self-declaration at all. */
export function addHouse(t: TruthPartial, plan: CityPlan, houseId: number, district: number, incidentDays: readonly number[], declarations: number): void {
  if (declarations > 0) return;
  let inW = false;
  for (const d of incidentDays) if (d > plan.wStart && d <= plan.asOf) inW = true;
  if (!inW) return;
  t.s3[district] = (t.s3[district] ?? 0) + 1;
  t.s3Houses.push(houseId);
}

/** The ground-truth file. */
export interface GroundTruth {
  version: 1;
  seed: string;
  persons: number;
  asOf: string;
  generatorVersion: string;
  contentHash: string;
  window: { after: string; through: string };
  quarter: { from: string; through: string };
  s1: { columns: ['grid_code', 'household_type', 'sex', 'age_band', 'persons']; cells: [string, 'local' | 'floating', 'M' | 'F', string, number][] };
  s2: Record<S2Tag, Record<string, number>>;
  s3: { total: number; byDistrict: Record<string, number>; houseIds: number[] };
  s4a: { total: number; bySource: Record<(typeof S4A_SOURCES)[number], Record<string, number>>; idNumbers: string[] };
  s4b: { total: number; byDistrictReason: [string, (typeof S4B_REASONS)[number], number][]; idNumbers: string[] };
  s4c: { total: number; byDistrict: Record<string, number>; idNumbers: string[] };
  s5: {
    modelId: string; threshold: number;
    total: Record<(typeof S5_OUTCOMES)[number], number>;
    byDistrict: Record<string, Record<(typeof S5_OUTCOMES)[number], number>>;
    failVisitIds: number[]; unusableVisitIds: number[];
  };
  s6: { registry: Record<string, number>; anyDomain: Record<string, number> };
  s7: { columns: ['district_code', 'age_band', 'sex', 'persons']; cells: [string, string, 'M' | 'F', number][] };
}

export function finalizeTruth(t: TruthPartial, plan: CityPlan, meta: { generatorVersion: string; contentHash: string }): GroundTruth {
  const geo = plan.geo;
  const dcode = (d: number) => geo.districts[d]?.code ?? '?';
  const byDistrict = (a: Uint32Array, offset = 0): Record<string, number> => {
    const out: Record<string, number> = {};
    for (let d = 0; d < plan.districtCount; d++) {
      const n = a[offset + d] ?? 0;
      if (n > 0) out[dcode(d)] = n;
    }
    return out;
  };
  const s1: GroundTruth['s1']['cells'] = [];
  const B = AGE_BANDS_S1.length;
  for (let g = 0; g < geo.gridCodes.length; g++) {
    for (let h = 0; h < 2; h++) {
      for (let s = 0; s < 2; s++) {
        for (let b = 0; b < B; b++) {
          const n = t.s1[((g * 2 + h) * 2 + s) * B + b] ?? 0;
          if (n > 0) s1.push([geo.gridCodes[g] ?? '?', h ? 'floating' : 'local', s ? 'F' : 'M', AGE_BANDS_S1[b] ?? '?', n]);
        }
      }
    }
  }
  const C = geo.communities.length;
  const s2 = {} as Record<S2Tag, Record<string, number>>;
  S2_TAGS.forEach((tag, ti) => {
    const m: Record<string, number> = {};
    for (let c = 0; c < C; c++) {
      const n = t.s2[ti * C + c] ?? 0;
      if (n > 0) m[geo.communities[c]?.code ?? '?'] = n;
    }
    s2[tag] = m;
  });
  const s4b: GroundTruth['s4b']['byDistrictReason'] = [];
  for (let d = 0; d < plan.districtCount; d++) {
    S4B_REASONS.forEach((r, ri) => {
      const n = t.s4b[d * 2 + ri] ?? 0;
      if (n > 0) s4b.push([dcode(d), r, n]);
    });
  }
  const s7: GroundTruth['s7']['cells'] = [];
  for (let d = 0; d < plan.districtCount; d++) {
    for (let b = 0; b < AGE_BANDS_S7.length; b++) {
      for (let s = 0; s < 2; s++) {
        const n = t.s7[(d * AGE_BANDS_S7.length + b) * 2 + s] ?? 0;
        if (n > 0) s7.push([dcode(d), AGE_BANDS_S7[b] ?? '?', s ? 'F' : 'M', n]);
      }
    }
  }
  const s5Total = { pass: 0, fail: 0, unusable: 0 };
  const s5ByDistrict: GroundTruth['s5']['byDistrict'] = {};
  for (let d = 0; d < plan.districtCount; d++) {
    const cell = { pass: t.s5[d * 3] ?? 0, fail: t.s5[d * 3 + 1] ?? 0, unusable: t.s5[d * 3 + 2] ?? 0 };
    if (cell.pass + cell.fail + cell.unusable === 0) continue;
    s5ByDistrict[dcode(d)] = cell;
    s5Total.pass += cell.pass; s5Total.fail += cell.fail; s5Total.unusable += cell.unusable;
  }
  const sortIds = (a: string[]) => unpackIds(a).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const D = plan.districtCount;
  const s4bIds = sortIds(t.s4bIds);
  const s4cIds = sortIds(t.s4cIds);
  return {
    version: 1,
    seed: plan.seed,
    persons: plan.persons,
    asOf: plan.asOfText,
    generatorVersion: meta.generatorVersion,
    contentHash: meta.contentHash,
    window: { after: formatDay(plan.wStart), through: plan.asOfText },
    quarter: { from: formatDay(plan.qStart), through: plan.asOfText },
    s1: { columns: ['grid_code', 'household_type', 'sex', 'age_band', 'persons'], cells: s1 },
    s2,
    s3: { total: t.s3Houses.length, byDistrict: byDistrict(t.s3), houseIds: [...t.s3Houses].sort((a, b) => a - b) },
    s4a: {
      total: t.s4aTotal,
      bySource: { employment: byDistrict(t.s4a, 0), tenancy: byDistrict(t.s4a, D), visit: byDistrict(t.s4a, 2 * D) },
      idNumbers: sortIds(t.s4aIds),
    },
    s4b: { total: s4bIds.length, byDistrictReason: s4b, idNumbers: s4bIds },
    s4c: { total: s4cIds.length, byDistrict: byDistrict(t.s4c), idNumbers: s4cIds },
    s5: {
      modelId: SYNTHETIC_MODEL_ID, threshold: SYNTHETIC_THRESHOLD, total: s5Total, byDistrict: s5ByDistrict,
      failVisitIds: [...t.s5Fail].sort((a, b) => a - b), unusableVisitIds: [...t.s5Unusable].sort((a, b) => a - b),
    },
    s6: { registry: byDistrict(t.s6a), anyDomain: byDistrict(t.s6b) },
    s7: { columns: ['district_code', 'age_band', 'sex', 'persons'], cells: s7 },
  };
}

/** Writes the truth atomically: a temporary file in the same folder, then rename. */
export function writeTruthFile(file: string, truth: GroundTruth): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, JSON.stringify(truth) + '\n');
  renameSync(tmp, file);
}
