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
