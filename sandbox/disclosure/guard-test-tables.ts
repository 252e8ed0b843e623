import { rollupSets } from '../../operators/geo-rollup/geo-rollup.operator.ts';
import type { AggregateTable, RelColumn } from '../pipeline/relation.ts';
import type { RawRow } from './staff-guard.ts';

/**
 * Test tables for the guard's tests: district → street × sex × age band with every margin, random
 * small cells, as the SQL of a stage would give them. Used by tests only.
 */
const col = (name: string, geoLevel?: 'district' | 'street'): RelColumn => ({
  name, type: 'text', semantic: geoLevel ? 'geo_code' : 'category', level: 'L1', identifierOrigins: [], nullable: false, ...(geoLevel ? { geoLevel } : {}),
});
export const KEYS = ['district_code', 'street_code', 'sex', 'band'];
export const table: AggregateTable = {
  kind: 'table', domain: 'registry', unitKind: 'person', level: 'L2', datasets: ['registry.person'],
  keys: [
    { name: 'district_code', geoLevel: 'district', column: col('district_code', 'district') },
    { name: 'street_code', geoLevel: 'street', column: col('street_code', 'street') },
    { name: 'sex', column: col('sex') },
    { name: 'band', column: col('band') },
  ],
  measures: [{ name: 'persons', kind: 'count_persons', label: { zh: '人数', en: 'Persons' } }],
  groupingSets: rollupSets(['district_code', 'street_code'], ['sex', 'band']),
};

/** Deterministic small PRNG for test tables. */
export function rng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let x = s; x = Math.imul(x ^ (x >>> 15), x | 1); x ^= x + Math.imul(x ^ (x >>> 7), x | 61); return ((x ^ (x >>> 14)) >>> 0) / 4294967296; };
}

/** A random finest table (many small cells, some empty) and all its grouping-set rows, as SQL would give them. */
export function makeRows(seed: number): RawRow[] {
  const r = rng(seed);
  const finest: { keys: string[]; n: number }[] = [];
  for (let d = 1; d <= 3; d++) for (let s = 1; s <= 3; s++) for (const sex of ['M', 'F']) for (const band of ['a', 'b', 'c']) {
    const u = r();
    const n = u < 0.15 ? 0 : u < 0.55 ? 1 + Math.floor(r() * 7) : 8 + Math.floor(r() * 40);
    if (n > 0) finest.push({ keys: [`44010${d}`, `44010${d}00${s}`, sex, band], n });
  }
  const rows = new Map<string, { keys: (string | null)[]; grouping: number; n: number }>();
  for (const set of table.groupingSets) {
    let grouping = 0;
    KEYS.forEach((k, i) => { if (!set.includes(k)) grouping |= 1 << (KEYS.length - 1 - i); });
    for (const f of finest) {
      const keys = f.keys.map((v, i) => ((grouping & (1 << (KEYS.length - 1 - i))) ? null : v));
      const id = `${grouping}|${keys.join(',')}`;
      const row = rows.get(id) ?? { keys, grouping, n: 0 };
      row.n += f.n;
      rows.set(id, row);
    }
  }
  return [...rows.values()].map((x) => ({
    ...Object.fromEntries(KEYS.map((k, i) => [k, x.keys[i]])), __grouping: x.grouping, __units: x.n, persons: x.n,
  }));
}

