/**
 * Mock rows for the editor's preview: made up in the browser from the catalog's description of a
 * dataset (column types, code lists, bounds, geography) — never read from any domain. Values are
 * drawn by a seeded generator, so the same node shows the same mock rows each time. The geography
 * columns of one prefix (district → grid) are drawn together from one grid of the catalog's
 * geography, so roll-ups of mock rows add up.
 */
import type { CatalogColumn, CatalogDataset, GeoUnit } from '../api/types.ts';
import type { Row, Value } from './evaluate-expr.ts';

/** mulberry32: a small seeded generator (not for anything but mock values). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const GEO = ['district', 'street', 'community', 'grid'] as const;

/** A GB 11643 check digit (so the mock ID numbers are well formed). */
export function idCheckDigit(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17.charAt(i)) * (w[i] ?? 0);
  return '10X98765432'.charAt(s % 11);
}

export interface MockContext {
  readonly geography: readonly GeoUnit[];
  /** The snapshot date mock dates lie before ('YYYY-MM-DD'). */
  readonly asOf: string;
}

function mockDate(rnd: () => number, asOf: string, maxYears: number): string {
  const end = Date.UTC(Number(asOf.slice(0, 4)), Number(asOf.slice(5, 7)) - 1, Number(asOf.slice(8, 10)));
  return new Date(end - Math.floor(rnd() * maxYears * 365.25) * 86_400_000).toISOString().slice(0, 10);
}

function mockValue(c: CatalogColumn, rnd: () => number, ctx: MockContext, row: Record<string, Value>): Value {
  if (c.nullable && rnd() < 0.05) return null;
  if (c.values) {
    const codes = Object.keys(c.values);
    return codes[Math.floor(rnd() * codes.length)] ?? null;
  }
  const [lo, hi] = c.bounds ?? [0, 100];
  switch (c.type) {
    case 'int': case 'bigint': return lo + Math.floor(rnd() * (hi - lo + 1));
    case 'numeric': return Math.round((lo + rnd() * (hi - lo)) * 100) / 100;
    case 'boolean': return rnd() < 0.5;
    case 'date': return mockDate(rnd, ctx.asOf, c.name.includes('birth') ? 95 : 10);
    case 'bytea': return null;
    default: break;
  }
  if (c.semantic === 'id_number') {
    const birth = typeof row['birth_date'] === 'string' ? row['birth_date'] : mockDate(rnd, ctx.asOf, 95);
    const sex = row['sex'] === 'F' ? 2 * Math.floor(rnd() * 5) : row['sex'] === 'M' ? 2 * Math.floor(rnd() * 5) + 1 : Math.floor(rnd() * 10);
    const body = `440106${birth.replaceAll('-', '')}${pad(Math.floor(rnd() * 100), 2)}${sex}`;
    return body + idCheckDigit(body);
  }
  if (c.semantic === 'phone') return `13${pad(Math.floor(rnd() * 1e9), 9)}`;
  return `${c.name}-${pad(Math.floor(rnd() * 10_000), 4)}`;
}

/** `n` mock rows of `dataset` (every column of the catalog), seeded by `seed`. */
export function mockRows(dataset: CatalogDataset, ctx: MockContext, n: number, seed: number): Row[] {
  const rnd = seededRandom(seed);
  const units = new Map(ctx.geography.map((u) => [u.code, u]));
  const grids = ctx.geography.filter((u) => u.level === 'grid');
  const rows: Row[] = [];
  // Birth dates and sexes first: ID numbers agree with them.
  const order = [...dataset.columns].sort((a, b) => Number(a.semantic === 'id_number') - Number(b.semantic === 'id_number'));
  for (let i = 0; i < n; i++) {
    const row: Record<string, Value> = {};
    const geoOf = new Map<string, GeoUnit | undefined>();
    for (const c of order) {
      if (c.geoLevel) {
        const prefix = c.name.slice(0, c.name.length - `${c.geoLevel}_code`.length);
        if (!geoOf.has(prefix)) geoOf.set(prefix, grids[Math.floor(rnd() * grids.length)]);
        let unit = geoOf.get(prefix);
        const want = GEO.indexOf(c.geoLevel as (typeof GEO)[number]);
        while (unit && GEO.indexOf(unit.level) > want) unit = unit.parentCode ? units.get(unit.parentCode) : undefined;
        row[c.name] = unit?.code ?? `${c.geoLevel}-${pad(Math.floor(rnd() * 10), 2)}`;
        continue;
      }
      row[c.name] = mockValue(c, rnd, ctx, row);
    }
    rows.push(row);
  }
  return rows;
}
