import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../operators/index.ts';
import { seededTestRng } from '../dp/test-rng.ts';
import { isLabError } from '../errors/index.ts';
import { validatePipeline } from '../pipeline/validate.ts';
import { planPipeline, type DomainStage } from '../plan/planner.ts';
import { bucketLabels, dpClampBounds, releaseWithDp, type GeoUnitRow } from './dp-release.ts';
import type { RawRow } from './staff-guard.ts';

const doc = JSON.parse(readFileSync(new URL('../../examples/pipelines/s7-floating-age-structure.json', import.meta.url), 'utf8')) as { nodes: { id: string; params: Record<string, unknown> }[] };

function stageOf(d: unknown): DomainStage {
  const v = validatePipeline(d);
  if (!v.ok) throw v.errors[0] ?? new Error('invalid');
  const s = planPipeline(v.pipeline).stages[0];
  if (!s || s.kind !== 'domain') throw new Error('no stage');
  return s;
}

const stage = stageOf(doc);
const BANDS = ['0-4', '5-9', '10-14', '15-19', '20-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54', '55-59', '60-64', '65-69', '70-74', '75-79', '80-84', '85+'];
const geography: GeoUnitRow[] = [
  { code: '440103', level: 'district', parent_code: null },
  { code: '440104', level: 'district', parent_code: null },
  { code: '440105', level: 'district', parent_code: null },
  { code: '440103001', level: 'street', parent_code: '440103' },
];
const params = { threshold: 10, rounding: 5, pPercent: 0.1, nkK: 0.9, maxLevels: 40 };

/** Pre-noise rows as the stage query returns them: only non-empty finest cells (grouping 0) and their roll-ups. */
function rowsFrom(cells: Record<string, number>): RawRow[] {
  const rows: RawRow[] = [];
  for (const [k, n] of Object.entries(cells)) {
    const [district_code, age_band, sex] = k.split('|');
    rows.push({ district_code, age_band, sex, __grouping: 0, __units: n, persons: n });
  }
  return rows;
}

describe('the researcher DP release', () => {
  it('knows the labels of a bucket() key, as the compiler writes them', () => {
    expect(bucketLabels(stage.rel, 'age_band')).toEqual(BANDS);
  });

  it('releases the same cells whatever the data: the public domain of every grouping set', () => {
    const a = releaseWithDp({ table: stage.table, rel: stage.rel, rows: rowsFrom({ '440103|20-24|M': 500 }), geography, params, epsilon: '1', rng: seededTestRng('a') });
    const b = releaseWithDp({ table: stage.table, rel: stage.rel, rows: rowsFrom({ '440105|85+|F': 1 }), geography, params, epsilon: '1', rng: seededTestRng('b') });
    const cells = (t: typeof a) => t.rows.map((r) => `${r.grouping}:${JSON.stringify(r.keys)}`).sort();
    expect(cells(a)).toEqual(cells(b));
    // finest: 3 districts × (18 bands + NULL) × (2 sexes + NULL) = 171 noisy cells.
    expect(a.guard.dp).toMatchObject({ noisyCells: 171, epsilon: '1', scale: '1' });
    expect(a.rows.filter((r) => r.grouping === 0)).toHaveLength(171);
    expect(a.guard.rule).toBe('researcher-dp');
  });

  it('noisy finest cells stay near the truth; subtotals are the sums of the noisy cells; small counts are suppressed', () => {
    const truth: Record<string, number> = {};
    BANDS.forEach((band, i) => { truth[`440103|${band}|M`] = 100 + i; truth[`440103|${band}|F`] = 200 + i; truth[`440104|${band}|F`] = 3; });
    const t = releaseWithDp({ table: stage.table, rel: stage.rel, rows: rowsFrom(truth), geography, params, epsilon: '1', rng: seededTestRng('near') });
    const cell = (keys: (string | null)[], grouping = 0) => t.rows.find((r) => r.grouping === grouping && JSON.stringify(r.keys) === JSON.stringify(keys));
    for (const [i, band] of BANDS.entries()) {
      const v = cell(['440103', band, 'M'])?.values[0];
      // Laplace scale 1: |noise| > 20 has probability ≈ 2e-9; rounding to 5 adds at most 2.5.
      expect(Math.abs((v ?? -1000) - (100 + i))).toBeLessThanOrEqual(23);
      expect(cell(['440104', band, 'F'])?.suppressed).toBe(true); // 3 persons + noise stays below 10 (w.h.p.)
    }
    const districtTotal = cell(['440103', null, null], 0b011)?.values[0] ?? 0; // age_band and sex rolled up
    expect(Math.abs(districtTotal - BANDS.reduce((s, _, i) => s + 300 + 2 * i, 0))).toBeLessThan(80);
    expect(t.rows.every((r) => r.values.every((v) => v === null || v % 5 === 0))).toBe(true);
    expect(t.rows.every((r) => r.suppressed === (r.values[0] === null))).toBe(true);
  });

  it('the noise is fresh: two releases of the same data differ somewhere (no averaging trick gets a stable answer for free)', () => {
    const rows = rowsFrom({ '440103|20-24|M': 500 });
    const a = releaseWithDp({ table: stage.table, rel: stage.rel, rows, geography, params, epsilon: '1', rng: seededTestRng('one') });
    const b = releaseWithDp({ table: stage.table, rel: stage.rel, rows, geography, params, epsilon: '1', rng: seededTestRng('two') });
    expect(a.rows.map((r) => r.values[0])).not.toEqual(b.rows.map((r) => r.values[0]));
  });

  it('refuses a key without a public list of values (its cells would depend on the data)', () => {
    const sum = structuredClone(doc);
    const rollup = sum.nodes.find((n) => n.id === 'rollup');
    if (!rollup) throw new Error('S7 changed');
    rollup.params['by'] = ['sex'];
    const bands = sum.nodes.find((n) => n.id === 'bands');
    if (!bands) throw new Error('S7 changed');
    bands.params['columns'] = [{ name: 'age_band', expr: "substr(native_region_code, 1, 2)" }];
    rollup.params['by'] = ['age_band'];
    const s = stageOf(sum);
    try {
      releaseWithDp({ table: s.table, rel: s.rel, rows: [], geography, params, epsilon: '1' });
      expect.unreachable();
    } catch (e) {
      expect(isLabError(e) && e.code).toBe('LAB-E124');
      expect(isLabError(e) && e.field).toBe('age_band');
    }
  });

  it('sums and means: clamped per person (bounds from the catalog), ε shared with the count, subtotals summed, means as noisy sum / noisy count', () => {
    const subsidy = stageOf({
      specVersion: 1, name: 'subsidy amounts',
      nodes: [
        { id: 's', op: 'source@1', params: { dataset: 'civil.subsidy' } },
        { id: 'r', op: 'geo-rollup@1', inputs: { rows: 's' }, params: { depth: 'district', measures: [{ kind: 'count_persons' }, { kind: 'sum', column: 'monthly_amount', name: 'total' }, { kind: 'mean', column: 'monthly_amount', name: 'avg' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'r' }, params: { title: 't' } },
      ],
    });
    expect(dpClampBounds(subsidy.table)).toEqual({ total: [0, 5000], avg: [0, 5000] });
    // 200 persons in one cell, each 1 000 a month.
    const rows: RawRow[] = [{ district_code: '440103', __grouping: 0, __units: 200, persons: 200, total: 200_000, avg: 1000 }];
    const t = releaseWithDp({ table: subsidy.table, rel: subsidy.rel, rows, geography, params, epsilon: '1', rng: seededTestRng('sums') });
    const names = t.columns.filter((c) => c.role === 'measure').map((c) => c.name);
    const cell = t.rows.find((r) => r.grouping === 0 && r.keys[0] === '440103');
    const [count, total, avg] = names.map((n) => cell?.values[names.indexOf(n)] ?? null) as [number, number, number];
    // ε 1 shared by three queries: count scale 3 (|noise| ≤ 60 w.p. 1 − 2e-9); sum scale 3 × 5 000.
    expect(Math.abs(count - 200)).toBeLessThanOrEqual(63);
    expect(Math.abs(total - 200_000)).toBeLessThanOrEqual(300_000);
    // The mean is its own noisy sum (scale 15 000) over the noisy count: near 1 000 at n = 200.
    expect(Math.abs(avg - 1000)).toBeLessThan(2500);
    // The city total of sums is the sum of the noisy district cells (subtotals add up).
    const districts = t.rows.filter((r) => r.grouping === 0);
    const city = t.rows.find((r) => r.grouping === 1);
    const ti = names.indexOf('total');
    if (districts.every((r) => !r.suppressed) && city && !city.suppressed) {
      expect(Math.abs((city.values[ti] ?? 0) - districts.reduce((s, r) => s + (r.values[ti] ?? 0), 0))).toBeLessThanOrEqual(districts.length);
    }
    // Grouped by assistance type, a person with two kinds of assistance would sit in two noisy cells: refused.
    const byType = stageOf({
      specVersion: 1, name: 'by type',
      nodes: [
        { id: 's', op: 'source@1', params: { dataset: 'civil.subsidy' } },
        { id: 'r', op: 'geo-rollup@1', inputs: { rows: 's' }, params: { depth: 'district', by: ['subsidy_type'], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'r' }, params: { title: 't' } },
      ],
    });
    expect(() => releaseWithDp({ table: byType.table, rel: byType.rel, rows: [], geography, params, epsilon: '1' })).toThrow(/several values per person/);
  });

  it('a measure without catalog bounds, or a distinct count, cannot be released with DP', () => {
    const distinct = stageOf({
      specVersion: 1, name: 'distinct',
      nodes: [
        { id: 's', op: 'source@1', params: { dataset: 'civil.subsidy' } },
        { id: 'r', op: 'geo-rollup@1', inputs: { rows: 's' }, params: { depth: 'district', measures: [{ kind: 'count_distinct', column: 'subsidy_type', name: 'types' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'r' }, params: { title: 't' } },
      ],
    });
    expect(() => dpClampBounds(distinct.table)).toThrow(/count_distinct/);
  });
});
