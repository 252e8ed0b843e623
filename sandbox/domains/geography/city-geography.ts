import { Rng, seedKey } from '../generator/prng.ts';
import { COMMUNITY_STEMS, DISTRICTS, FULL_SCALE_PERSONS, ROAD_STEMS, VILLAGE_STEMS } from './guangzhou.data.ts';

/** One unit of the reference geography, as stored in `geo_unit` (every domain DB and the control DB). */
export interface GeoUnit {
  readonly code: string;
  readonly level: 'district' | 'street' | 'community' | 'grid';
  readonly parent_code: string | null;
  readonly name_zh: string;
  readonly name_en: string;
  readonly urban_village: boolean;
}

export interface DistrictInfo { readonly code: string; readonly zh: string; readonly en: string }
export interface StreetInfo { readonly code: string; readonly zh: string; readonly en: string; readonly district: number; readonly town: boolean }
export interface CommunityInfo {
  readonly code: string;
  readonly zh: string;
  readonly en: string;
  readonly street: number;
  readonly district: number;
  readonly kind: 'community' | 'village' | 'urban_village';
  /** Road (or, in a village, lane-prefix) names used to build addresses. */
  readonly roads: readonly string[];
}

/**
 * The synthetic city's geography for a population size, with the arrays the generator samples
 * from. Grids are in code order, so each district's grids form one contiguous range.
 */
export interface CityGeography {
  readonly persons: number;
  readonly units: readonly GeoUnit[];
  readonly districts: readonly DistrictInfo[];
  readonly streets: readonly StreetInfo[];
  readonly communities: readonly CommunityInfo[];
  readonly gridCodes: readonly string[];
  readonly gridCommunity: Int32Array;
  readonly gridDistrict: Uint8Array;
  /** Expected residents of the grid (sums to `persons`). */
  readonly gridWeight: Float64Array;
  /** Planted share of floating residents in the grid. */
  readonly gridFloatingShare: Float64Array;
  readonly gridUrbanVillage: Uint8Array;
  /** Grids of district d are [districtGridFrom[d], districtGridTo[d]). */
  readonly districtGridFrom: Int32Array;
  readonly districtGridTo: Int32Array;
  /** The scaling parameters actually used (documented in docs/data.md). */
  readonly scale: { readonly k: number; readonly personsPerGrid: number };
}

/** Floating share planted in urban-village grids; rural villages get half their district's base rate. */
const URBAN_VILLAGE_FLOATING = 0.78;

/**
 * Scaling rule (k = persons / 18.7 M, Guangzhou's 2020 resident population):
 * - streets per district: min(real, max(2, round(real × √k)));
 * - communities per street: min(m, max(3, round(m × √k))), m = the street's full-scale count (10–22, from the seed);
 * - residents per grid: P = min(900, max(60, 900 × ∛k)); a community gets max(1, round(its residents / P)) grids.
 * At 18.7 M this gives the real 176 streets, ≈ 2 800 communities and ≈ 900 residents per grid.
 */
export function buildGeography(persons: number, seed: string): CityGeography {
  const k = persons / FULL_SCALE_PERSONS;
  const sqrtK = Math.sqrt(k);
  const personsPerGrid = Math.min(900, Math.max(60, 900 * Math.cbrt(k)));
  const key = seedKey(seed, 'geography');
  const totalPopulation = DISTRICTS.reduce((a, d) => a + d.population, 0);

  const districts: DistrictInfo[] = [];
  const streets: StreetInfo[] = [];
  const communities: CommunityInfo[] = [];
  const units: GeoUnit[] = [];
  const gridCodes: string[] = [];
  const gridCommunity: number[] = [];
  const gridDistrict: number[] = [];
  const gridWeight: number[] = [];
  const gridFloating: number[] = [];
  const gridUv: number[] = [];
  const districtGridFrom: number[] = [];
  const districtGridTo: number[] = [];

  DISTRICTS.forEach((d, di) => {
    districts.push({ code: d.code, zh: d.zh, en: d.en });
    units.push({ code: d.code, level: 'district', parent_code: null, name_zh: d.zh, name_en: `${d.en} District`, urban_village: false });
    const districtPersons = persons * (d.population / totalPopulation);
    const nStreets = Math.min(d.streets.length, Math.max(2, Math.round(d.streets.length * sqrtK)));

    // First pass: communities of each chosen street with relative weights.
    interface PendingCommunity { info: Omit<CommunityInfo, 'code'>; weight: number; number: number }
    const pendingStreets: { info: StreetInfo; weight: number; communities: PendingCommunity[] }[] = [];
    let streetNo = 0;
    let townNo = 100;
    for (let si = 0; si < nStreets; si++) {
      const sd = d.streets[si];
      if (!sd) continue;
      const rng = Rng.at(key, di * 1000 + si);
      const isTown = sd.town === true;
      const code = d.code + String(isTown ? ++townNo : ++streetNo).padStart(3, '0');
      const street: StreetInfo = { code, zh: sd.zh + (isTown ? '镇' : '街道'), en: `${sd.en} ${isTown ? 'Town' : 'Subdistrict'}`, district: di, town: isTown };
      const fullCount = rng.between(10, 22);
      const count = Math.min(fullCount, Math.max(3, Math.round(fullCount * sqrtK)));
      const stems = shuffled(rng, COMMUNITY_STEMS);
      const villageStems = shuffled(rng, VILLAGE_STEMS);
      const list: PendingCommunity[] = [];
      let communityNo = 0;
      let villageNo = 200;
      const streetIndex = streets.length + pendingStreets.length;
      for (const [zh, en] of sd.villages ?? []) {
        if (list.length >= count) break;
        list.push({ info: { zh, en, street: streetIndex, district: di, kind: 'urban_village', roads: [zh] }, weight: 2.5 * lognormal(rng, 0.3), number: ++villageNo });
      }
      const townCentre = isTown ? Math.max(1, Math.round(count * 0.35)) : 0;
      while (list.length < count) {
        const synthetic = list.length - (sd.villages?.length ?? 0);
        const asVillage = isTown ? synthetic >= townCentre : rng.chance(d.urbanVillageRate);
        if (asVillage) {
          const [vz, ve] = villageStems.pop() ?? ['新', 'Xin'];
          const kind = isTown ? 'village' : 'urban_village';
          list.push({
            info: { zh: `${vz}村`, en: `${ve} Village`, street: streetIndex, district: di, kind, roads: [`${vz}村`] },
            weight: (kind === 'urban_village' ? 2.5 : 0.6) * lognormal(rng, 0.4), number: ++villageNo,
          });
        } else {
          const [cz, ce] = stems.pop() ?? ['新', 'Xin'];
          const roads = [0, 1, 2].map(() => {
            const [rz] = rng.pick(ROAD_STEMS);
            return rz + rng.pick(['路', '路', '大道', '街', '大街']);
          });
          list.push({ info: { zh: `${cz}社区`, en: `${ce} Community`, street: streetIndex, district: di, kind: 'community', roads }, weight: lognormal(rng, 0.5), number: ++communityNo });
        }
      }
      pendingStreets.push({ info: street, weight: lognormal(rng, 0.35), communities: list });
    }

    // Second pass: expected residents per community → grids; floating share per grid.
    const streetTotal = pendingStreets.reduce((a, x) => a + x.weight, 0);
    interface PendingGrid { code: string; community: number; weight: number; uv: boolean; rural: boolean }
    const grids: PendingGrid[] = [];
    for (const ps of pendingStreets) {
      streets.push(ps.info);
      units.push({ code: ps.info.code, level: 'street', parent_code: d.code, name_zh: ps.info.zh, name_en: ps.info.en, urban_village: false });
      const streetPersons = districtPersons * (ps.weight / streetTotal);
      const commTotal = ps.communities.reduce((a, x) => a + x.weight, 0);
      // Codes in number order: residents' committees 001…, villages 201…
      const ordered = [...ps.communities].sort((a, b) => a.number - b.number);
      for (const pc of ordered) {
        const code = ps.info.code + String(pc.number).padStart(3, '0');
        const ci = communities.length;
        communities.push({ ...pc.info, code });
        const uv = pc.info.kind === 'urban_village';
        units.push({ code, level: 'community', parent_code: ps.info.code, name_zh: pc.info.zh, name_en: pc.info.en, urban_village: uv });
        const commPersons = streetPersons * (pc.weight / commTotal);
        const nGrids = Math.max(1, Math.round(commPersons / personsPerGrid));
        const rng = Rng.at(key, 1_000_000 + ci);
        const gw = Array.from({ length: nGrids }, () => lognormal(rng, 0.15));
        const gwTotal = gw.reduce((a, x) => a + x, 0);
        for (let g = 0; g < nGrids; g++) {
          const gcode = code + String(g + 1).padStart(3, '0');
          units.push({ code: gcode, level: 'grid', parent_code: code, name_zh: `${pc.info.zh}第${g + 1}网格`, name_en: `${pc.info.en} Grid ${g + 1}`, urban_village: uv });
          grids.push({ code: gcode, community: ci, weight: commPersons * ((gw[g] ?? 1) / gwTotal), uv, rural: pc.info.kind === 'village' });
        }
      }
    }
    let uvPersons = 0, normalPersons = 0, ruralPersons = 0;
    for (const g of grids) {
      if (g.uv) uvPersons += g.weight; else if (g.rural) ruralPersons += g.weight; else normalPersons += g.weight;
    }
    // Urban villages are mostly floating, but never more than 85 % of the district's floating residents
    // (small cities are dominated by the real urban villages, which come first in their street).
    const uvShare = uvPersons > 0 ? Math.min(URBAN_VILLAGE_FLOATING, (0.85 * d.floatingShare * districtPersons) / uvPersons) : URBAN_VILLAGE_FLOATING;
    const base = Math.min(0.9, Math.max(0.03, (d.floatingShare * districtPersons - uvShare * uvPersons) / Math.max(1, normalPersons + 0.5 * ruralPersons)));
    districtGridFrom.push(gridCodes.length);
    for (const g of grids) {
      gridCodes.push(g.code);
      gridCommunity.push(g.community);
      gridDistrict.push(di);
      gridWeight.push(g.weight);
      gridFloating.push(g.uv ? uvShare : g.rural ? base * 0.5 : base);
      gridUv.push(g.uv ? 1 : 0);
    }
    districtGridTo.push(gridCodes.length);
  });

  units.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return {
    persons, units, districts, streets, communities, gridCodes,
    gridCommunity: Int32Array.from(gridCommunity), gridDistrict: Uint8Array.from(gridDistrict),
    gridWeight: Float64Array.from(gridWeight), gridFloatingShare: Float64Array.from(gridFloating),
    gridUrbanVillage: Uint8Array.from(gridUv),
    districtGridFrom: Int32Array.from(districtGridFrom), districtGridTo: Int32Array.from(districtGridTo),
    scale: { k, personsPerGrid },
  };
}

function lognormal(rng: Rng, sigma: number): number {
  return Math.exp(sigma * rng.normal());
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/** Counts per level. */
export function geographyCounts(units: readonly GeoUnit[]): { districts: number; streets: number; communities: number; grids: number } {
  const c = { districts: 0, streets: 0, communities: 0, grids: 0 };
  for (const u of units) {
    if (u.level === 'district') c.districts++;
    else if (u.level === 'street') c.streets++;
    else if (u.level === 'community') c.communities++;
    else c.grids++;
  }
  return c;
}
