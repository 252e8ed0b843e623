import { describe, expect, it } from 'vitest';
import type { ReleasedRow, ReleasedTable } from '../../../workspace-ui/src/api/types.ts';
import { chartData, chartModes, drawnValue, MAX_CATEGORIES } from '../../../workspace-ui/src/results/chart-data.ts';

const row = (keys: (string | null)[], grouping: number, value: number | null, suppressed = false): ReleasedRow => ({ keys, grouping, values: [value, value === null ? null : value * 2], suppressed, rounded: true, allOfParent: false });
const guard = { rule: 'staff' as const, threshold: 7, rounding: 5, cells: 0, suppressed: 0 };

/** district × sex with margins (GROUPING SETS): grouping bit 1 = sex rolled up, bit 2 = district rolled up. */
const rollup: ReleasedTable = {
  columns: [{ name: 'district', role: 'key', geoLevel: 'district' }, { name: 'sex', role: 'key' }, { name: 'persons', role: 'measure' }, { name: 'twice', role: 'measure' }],
  rows: [
    row([null, null], 3, 1000),
    row(['440104', null], 1, 400), row(['440103', null], 1, 600),
    row([null, '1'], 2, 500), row([null, '2'], 2, 500),
    row(['440103', '1'], 0, 300), row(['440103', '2'], 0, 300),
    row(['440104', '1'], 0, 395), row(['440104', '2'], 0, null, true),
  ],
  guard,
};

describe('chart series of a released table', () => {
  it('offers bars by the first key and bars stacked by the second when the rows are there', () => {
    expect(chartModes(rollup)).toEqual(['bar', 'stacked']);
    const finestOnly: ReleasedTable = { ...rollup, rows: rollup.rows.filter((r) => r.grouping === 0) };
    expect(chartModes(finestOnly)).toEqual(['stacked']);
    const oneKey: ReleasedTable = { columns: [rollup.columns[0]!, rollup.columns[2]!], rows: [row(['440103'], 0, 10), row([null], 1, 10)], guard };
    expect(chartModes(oneKey)).toEqual(['bar']);
    expect(chartData(finestOnly, 'bar', 0)).toBeUndefined();
  });

  it('bars: the first key in code order from the rows by that key alone (margins over the rest), the chosen measure', () => {
    const d = chartData(rollup, 'bar', 0);
    expect(d).toMatchObject({ mode: 'bar', categories: ['440103', '440104'], suppressed: 0, truncated: 0 });
    expect(d?.series).toEqual([{ key: null, values: [600, 400] }]);
    expect(chartData(rollup, 'bar', 1)?.series[0]?.values).toEqual([1200, 800]);
  });

  it('stacked: a suppressed cell is a gap (null), never 0, and is counted where it is', () => {
    const d = chartData(rollup, 'stacked', 0);
    expect(d?.categories).toEqual(['440103', '440104']);
    expect(d?.series).toEqual([{ key: '1', values: [300, 395] }, { key: '2', values: [300, null] }]);
    expect(d?.suppressed).toBe(1);
    expect(d?.suppressedAt).toEqual([false, true]);
  });

  it('a suppressed flag wins over any value the row might carry', () => {
    expect(drawnValue(row(['x'], 0, 40, true), 0)).toBeNull();
    expect(drawnValue(row(['x'], 0, 0), 0)).toBe(0);
  });

  it('NULL keys come last; more categories than can be read are cut and counted', () => {
    const many: ReleasedTable = {
      columns: [{ name: 'grid', role: 'key' }, { name: 'persons', role: 'measure' }],
      rows: [row([null], 0, 5), ...Array.from({ length: MAX_CATEGORIES + 5 }, (_, i) => row([`g${String(i).padStart(3, '0')}`], 0, i))],
      guard,
    };
    const d = chartData(many, 'bar', 0);
    expect(d?.categories).toHaveLength(MAX_CATEGORIES);
    expect(d?.categories[0]).toBe('g000');
    expect(d?.truncated).toBe(6);
    const few: ReleasedTable = { ...many, rows: [row([null], 0, 5), row(['b'], 0, 1), row(['a'], 0, 2)] };
    expect(chartData(few, 'bar', 0)?.categories).toEqual(['a', 'b', null]);
  });
});
