import { describe, expect, it } from 'vitest';
import type { ReleasedRow, ReleasedTable } from '../../../workspace-ui/src/api/types.ts';
import { periodKey, pyramidChoices, pyramidData, pyramidKeys, trendData } from '../../../workspace-ui/src/results/chart-data.ts';

const row = (keys: (string | null)[], grouping: number, value: number | null, suppressed = false): ReleasedRow => ({ keys, grouping, values: [value], suppressed, rounded: true, allOfParent: false });
const guard = { rule: 'researcher-dp' as const, threshold: 7, rounding: 5, cells: 0, suppressed: 0 };

/** S7's shape: district × age_band × sex, geography prefixes × every margin of (age_band, sex). Bits: district 4, band 2, sex 1. */
const s7: ReleasedTable = {
  columns: [{ name: 'district_code', role: 'key', geoLevel: 'district' }, { name: 'age_band', role: 'key' }, { name: 'sex', role: 'key' }, { name: 'persons', role: 'measure' }],
  rows: [
    row([null, null, null], 7, 1000),
    row([null, '20-24', 'M'], 4, 120), row([null, '20-24', 'F'], 4, 110), row([null, '5-9', 'M'], 4, 40), row([null, '5-9', 'F'], 4, 35), row([null, '85+', 'M'], 4, null, true), row([null, '85+', 'F'], 4, 10),
    row([null, '20-24', null], 5, 230), row([null, null, 'M'], 6, 500),
    row(['440103', '20-24', 'M'], 0, 60), row(['440103', '20-24', 'F'], 0, null, true), row(['440103', '5-9', 'M'], 0, 20), row(['440103', '5-9', 'F'], 0, 15),
    row(['440104', '20-24', 'M'], 0, 60), row(['440104', '20-24', 'F'], 0, 55),
    row(['440103', null, null], 3, 400),
  ],
  guard,
};

describe('population pyramid', () => {
  it('finds the band and sex keys; bands youngest first; the city total by default', () => {
    expect(pyramidKeys(s7)).toEqual({ band: 1, sex: 2, others: [0] });
    const p = pyramidData(s7, 0);
    expect(p).toEqual({ bands: ['5-9', '20-24', '85+'], male: [40, 120, null], female: [35, 110, 10], suppressed: 1 });
  });
  it('one district: its own cells; a suppressed cell is a gap, never 0', () => {
    expect(pyramidData(s7, 0, new Map([[0, '440103']]))).toEqual({ bands: ['5-9', '20-24'], male: [20, 60], female: [15, null], suppressed: 1 });
    expect(pyramidChoices(s7, 0)).toEqual(['440103', '440104']);
  });
  it('no pyramid without an age band and a sex key', () => {
    const t: ReleasedTable = { ...s7, columns: [{ name: 'district_code', role: 'key' }, { name: 'x', role: 'key' }, { name: 'sex', role: 'key' }, { name: 'persons', role: 'measure' }], rows: s7.rows.map((r) => ({ ...r, keys: [r.keys[0] ?? null, r.keys[1] ? 'band' : null, r.keys[2] ?? null] })) };
    expect(pyramidKeys(t)).toBeUndefined();
    expect(pyramidData(t, 0)).toBeUndefined();
  });
});

describe('trend over periods', () => {
  /** month × household_type with margins: bits month 2, type 1. */
  const monthly: ReleasedTable = {
    columns: [{ name: 'month', role: 'key' }, { name: 'household_type', role: 'key' }, { name: 'persons', role: 'measure' }],
    rows: [
      row([null, null], 3, 90),
      row(['2026-03-01', null], 1, 20), row(['2026-01-01', null], 1, 30), row(['2026-02-01', null], 1, null, true),
      row(['2026-01-01', 'floating'], 0, 12), row(['2026-02-01', 'floating'], 0, 9), row(['2026-03-01', 'floating'], 0, null, true),
      row(['2026-01-01', 'local'], 0, 18), row(['2026-03-01', 'local'], 0, 15),
      row([null, 'floating'], 2, 40),
    ],
    guard,
  };
  it('the total line in time order, gaps where suppressed', () => {
    expect(periodKey(monthly)).toBe(0);
    expect(trendData(monthly, 0)).toEqual({ periods: ['2026-01-01', '2026-02-01', '2026-03-01'], suppressed: 1, series: [{ key: null, values: [30, null, 20] }] });
  });
  it('one line per value of another key; a period a line lacks is a gap too', () => {
    expect(trendData(monthly, 0, 1)).toEqual({
      periods: ['2026-01-01', '2026-02-01', '2026-03-01'], suppressed: 1,
      series: [{ key: 'floating', values: [12, 9, null] }, { key: 'local', values: [18, null, 15] }],
    });
  });
  it('no trend without a period key (S7 has none)', () => {
    expect(periodKey(s7)).toBeUndefined();
    expect(trendData(s7, 0)).toBeUndefined();
  });
});
