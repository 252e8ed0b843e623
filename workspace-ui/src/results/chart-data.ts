/**
 * A released table as chart series, free of React and of ECharts: bars by the first key, or bars
 * by the first key stacked by the second. Only the cells the guard released are drawn; a suppressed
 * cell is a gap (null), never a zero, and is counted so the chart can say so.
 */
import type { ReleasedRow, ReleasedTable } from '../api/types.ts';

export type ChartMode = 'bar' | 'stacked';

export interface ChartSeries {
  /** The second key's value (stacked), or '' for the one series of a plain bar chart. */
  readonly key: string | null;
  readonly values: readonly (number | null)[];
}

export interface ChartData {
  readonly mode: ChartMode;
  /** The first key's values, in code order (NULL last). */
  readonly categories: readonly (string | null)[];
  readonly series: readonly ChartSeries[];
  /** Suppressed cells among those drawn: gaps in the chart. */
  readonly suppressed: number;
  /** Which categories hold a suppressed cell (plain bars: that bar is missing). */
  readonly suppressedAt: readonly boolean[];
  /** Categories left out beyond MAX_CATEGORIES. */
  readonly truncated: number;
}

/** More bars than this are not readable: the rest are left out (and said to be). */
export const MAX_CATEGORIES = 60;

const keyCount = (t: ReleasedTable) => t.columns.filter((c) => c.role === 'key').length;

/** Whether key `k` of `row` is rolled up (its bit in `grouping` set; the first key is the highest bit). */
const rolledUp = (row: ReleasedRow, k: number, keys: number) => ((row.grouping >> (keys - 1 - k)) & 1) === 1;

/** The rows that hold exactly keys 0…depth-1 (the others rolled up, or absent). */
function rowsAtDepth(t: ReleasedTable, depth: number): ReleasedRow[] {
  const keys = keyCount(t);
  return t.rows.filter((r) => {
    for (let k = 0; k < keys; k++) if (rolledUp(r, k, keys) !== (k >= depth)) return false;
    return true;
  });
}

/** The chart kinds a table can show: bars need rows by the first key alone, stacking a second key. */
export function chartModes(t: ReleasedTable): ChartMode[] {
  const keys = keyCount(t);
  const out: ChartMode[] = [];
  if (keys >= 1 && rowsAtDepth(t, 1).length > 0) out.push('bar');
  if (keys >= 2 && rowsAtDepth(t, 2).length > 0) out.push('stacked');
  return out;
}

const byCode = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);

/** The cell's value as drawn: null when suppressed (or not released), else the released number. */
export function drawnValue(row: ReleasedRow, measure: number): number | null {
  if (row.suppressed) return null;
  const v = row.values[measure];
  return typeof v === 'number' ? v : null;
}

export function chartData(t: ReleasedTable, mode: ChartMode, measure: number): ChartData | undefined {
  if (!chartModes(t).includes(mode)) return undefined;
  const rows = rowsAtDepth(t, mode === 'bar' ? 1 : 2);
  const allCategories = [...new Set(rows.map((r) => r.keys[0] ?? null))].sort(byCode);
  const categories = allCategories.slice(0, MAX_CATEGORIES);
  const index = new Map(categories.map((c, i) => [c, i]));
  const seriesKeys = mode === 'bar' ? [null] : [...new Set(rows.map((r) => r.keys[1] ?? null))].sort(byCode);
  const values = new Map(seriesKeys.map((k) => [k, categories.map((): number | null => null)]));
  const suppressedAt = categories.map(() => false);
  let suppressed = 0;
  for (const r of rows) {
    const i = index.get(r.keys[0] ?? null);
    if (i === undefined) continue;
    const v = drawnValue(r, measure);
    const line = values.get(mode === 'bar' ? null : r.keys[1] ?? null);
    if (!line) continue;
    line[i] = v;
    if (v === null) { suppressed += 1; suppressedAt[i] = true; }
  }
  return {
    mode, categories, suppressed, suppressedAt, truncated: allCategories.length - categories.length,
    series: seriesKeys.map((k) => ({ key: k, values: values.get(k) ?? [] })),
  };
}

// ——— Population pyramid (S7: age band × sex, optionally by district) and trend over periods ———

/** An age band as the expression language's bucket() writes it: '15-24' or '80+'. */
const BAND = /^\d+(-\d+|\+)$/;
/** A period: a year, a year-month, a date, or a year with a quarter ('2026-Q2'). */
const PERIOD = /^\d{4}(-(\d{2}|Q[1-4])(-\d{2})?)?$/;
const bandLow = (b: string) => Number(b.split(/[-+]/)[0]);

/** Which key is the age band, which the sex (codes M/F), for a pyramid; undefined when the table has none. */
export function pyramidKeys(t: ReleasedTable): { band: number; sex: number; others: number[] } | undefined {
  const keys = t.columns.filter((c) => c.role === 'key');
  const valuesOf = (k: number) => new Set(t.rows.filter((r) => !rolledUp(r, k, keys.length)).map((r) => r.keys[k] ?? null));
  let band = -1;
  let sex = -1;
  keys.forEach((_, k) => {
    const vs = [...valuesOf(k)].filter((v) => v !== null);
    if (vs.length === 0) return;
    if (band < 0 && vs.every((v) => BAND.test(v))) band = k;
    else if (sex < 0 && vs.every((v) => v === 'M' || v === 'F')) sex = k;
  });
  if (band < 0 || sex < 0) return undefined;
  return { band, sex, others: keys.map((_, k) => k).filter((k) => k !== band && k !== sex) };
}

export interface PyramidData {
  /** Age bands, youngest first (the chart draws them bottom up). */
  readonly bands: readonly string[];
  /** Released counts per band; null where suppressed (a gap, never 0). */
  readonly male: readonly (number | null)[];
  readonly female: readonly (number | null)[];
  readonly suppressed: number;
}

/**
 * The pyramid at one value of each other key (`at`: the key's index → its value, or absent for the
 * total over it: rows where that key is rolled up). Cells the guard suppressed are gaps.
 */
export function pyramidData(t: ReleasedTable, measure: number, at: ReadonlyMap<number, string | null> = new Map()): PyramidData | undefined {
  const pk = pyramidKeys(t);
  if (!pk) return undefined;
  const keys = keyCount(t);
  const rows = t.rows.filter((r) => !rolledUp(r, pk.band, keys) && !rolledUp(r, pk.sex, keys) && pk.others.every((k) => (at.has(k) ? !rolledUp(r, k, keys) && (r.keys[k] ?? null) === at.get(k) : rolledUp(r, k, keys))));
  const bands = [...new Set(rows.map((r) => r.keys[pk.band] ?? null).filter((b): b is string => b !== null))].sort((a, b) => bandLow(a) - bandLow(b));
  const index = new Map(bands.map((b, i) => [b, i]));
  const male = bands.map((): number | null => null);
  const female = bands.map((): number | null => null);
  let suppressed = 0;
  for (const r of rows) {
    const i = index.get(r.keys[pk.band] ?? '');
    if (i === undefined) continue;
    const v = drawnValue(r, measure);
    if (v === null) suppressed += 1;
    (r.keys[pk.sex] === 'M' ? male : female)[i] = v;
  }
  return { bands, male, female, suppressed };
}

/** The values another key takes among the pyramid's rows (e.g. the districts to choose from). */
export function pyramidChoices(t: ReleasedTable, key: number): (string | null)[] {
  const keys = keyCount(t);
  return [...new Set(t.rows.filter((r) => !rolledUp(r, key, keys)).map((r) => r.keys[key] ?? null))].sort(byCode);
}

/** The key holding periods (years, months, dates, quarters), for a trend; undefined when none. */
export function periodKey(t: ReleasedTable): number | undefined {
  const keys = keyCount(t);
  for (let k = 0; k < keys; k++) {
    const vs = t.rows.filter((r) => !rolledUp(r, k, keys)).map((r) => r.keys[k] ?? null).filter((v): v is string => v !== null);
    if (vs.length >= 2 && vs.every((v) => PERIOD.test(v))) return k;
  }
  return undefined;
}

export interface TrendData {
  /** Periods in time order. */
  readonly periods: readonly string[];
  /** One line per value of the other key shown (`key` null: the total line). */
  readonly series: readonly ChartSeries[];
  readonly suppressed: number;
}

/**
 * A trend over the period key: the total line (every other key rolled up), or one line per value of
 * `by` (the rows holding exactly the period and `by`). Suppressed cells are gaps in the line.
 */
export function trendData(t: ReleasedTable, measure: number, by?: number): TrendData | undefined {
  const pk = periodKey(t);
  if (pk === undefined) return undefined;
  const keys = keyCount(t);
  const rows = t.rows.filter((r) => {
    for (let k = 0; k < keys; k++) if (rolledUp(r, k, keys) !== (k !== pk && k !== by)) return false;
    return true;
  });
  if (rows.length === 0) return undefined;
  const periods = [...new Set(rows.map((r) => r.keys[pk] ?? null).filter((p): p is string => p !== null))].sort();
  const index = new Map(periods.map((p, i) => [p, i]));
  const lineKeys = by === undefined ? [null] : [...new Set(rows.map((r) => r.keys[by] ?? null))].sort(byCode);
  const lines = new Map(lineKeys.map((k) => [k, periods.map((): number | null => null)]));
  let suppressed = 0;
  for (const r of rows) {
    const i = index.get(r.keys[pk] ?? '');
    const line = lines.get(by === undefined ? null : r.keys[by] ?? null);
    if (i === undefined || !line) continue;
    const v = drawnValue(r, measure);
    if (v === null) suppressed += 1;
    line[i] = v;
  }
  return { periods, suppressed, series: lineKeys.map((k) => ({ key: k, values: lines.get(k) ?? [] })) };
}
