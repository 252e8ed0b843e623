import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../../sandbox/domains/catalog/index.ts';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import { guardForStaff } from '../../../sandbox/disclosure/staff-guard.ts';
import { table as guardTable } from '../../../sandbox/disclosure/guard-test-tables.ts';
import type { AggregateTable } from '../../../sandbox/pipeline/relation.ts';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import type { CatalogDataset, GeoUnit, PipelineDocument } from '../../../workspace-ui/src/api/types.ts';
import { fromDocument, type Ports } from '../../../workspace-ui/src/editor/model.ts';
import type { Row } from '../../../workspace-ui/src/preview/evaluate-expr.ts';
import { guardCell, guardMockTable } from '../../../workspace-ui/src/preview/guard-preview.ts';
import { previewNode, type Measure } from '../../../workspace-ui/src/preview/run-preview.ts';

/**
 * The disclosure preview on mock rows: the staff guard's primary rules (persons, non-zero
 * contributors) and its rounding, with the policy's parameters — checked against the guard itself.
 */
const params = { threshold: DEFAULT_STAFF_PARAMS.threshold, rounding: DEFAULT_STAFF_PARAMS.rounding };
const rowsOf = (values: readonly (number | null)[]): Row[] => values.map((v) => ({ v }));
const agg = (measures: Measure[]) => ({ measures });

/** The guard on one finest cell (no margins: nothing but the primary rules and the rounding). */
function guardOne(measures: AggregateTable['measures'], row: Record<string, unknown>, units: number) {
  const t: AggregateTable = { ...guardTable, keys: [guardTable.keys[0]!], groupingSets: [['district_code']], measures };
  return guardForStaff(t, [{ district_code: 'A', __grouping: 0, __units: units, ...row }], DEFAULT_STAFF_PARAMS).rows[0];
}

describe('the disclosure preview on mock rows', () => {
  it('marks cells of at most threshold persons suppressed (no value), and rounds counts to the policy\'s rounding', () => {
    const small = guardCell(agg([{ kind: 'count_persons' }]), ['A'], ['k'], rowsOf(Array(params.threshold).fill(1)), params);
    expect(small).toMatchObject({ suppressed: true, reason: 'persons', values: [null] });
    const edge = guardCell(agg([{ kind: 'count_persons' }]), ['A'], ['k'], rowsOf(Array(params.threshold + 1).fill(1)), params);
    expect(edge).toMatchObject({ suppressed: false, values: [10], steps: [5] });
    for (const n of [8, 12, 13, 27, 199]) {
      const c = guardCell(agg([{ kind: 'count_persons' }]), ['A'], ['k'], rowsOf(Array(n).fill(1)), params);
      expect(c.values[0], `n = ${n}`).toBe(guardOne([{ name: 'persons', kind: 'count_persons', label: { zh: '人数', en: 'Persons' } }], { persons: n }, n)?.values[0]);
    }
    // Another policy's parameters are followed, not constants.
    expect(guardCell(agg([{ kind: 'count_persons' }]), ['A'], ['k'], rowsOf(Array(12).fill(1)), { threshold: 11, rounding: 10 })).toMatchObject({ suppressed: false, values: [10] });
    expect(guardCell(agg([{ kind: 'count_persons' }]), ['A'], ['k'], rowsOf(Array(11).fill(1)), { threshold: 11, rounding: 10 }).suppressed).toBe(true);
  });

  it('suppresses a sum or mean with at most threshold non-zero contributors, even in a large cell', () => {
    const values = [...Array(7).fill(1000), ...Array(40).fill(0)];
    expect(guardCell(agg([{ kind: 'sum', column: 'v' }]), ['A'], ['k'], rowsOf(values), params)).toMatchObject({ suppressed: true, reason: 'contributors' });
    expect(guardCell(agg([{ kind: 'mean', column: 'v' }]), ['A'], ['k'], rowsOf(values), params)).toMatchObject({ suppressed: true, reason: 'contributors' });
    expect(guardCell(agg([{ kind: 'count_persons' }]), ['A'], ['k'], rowsOf(values), params).suppressed).toBe(false);
    expect(guardCell(agg([{ kind: 'sum', column: 'v' }]), ['A'], ['k'], rowsOf([...values, 5]), params).suppressed).toBe(false);
  });

  it('rounds sums and means as the guard does (the 1-2-5 step of the largest contribution; the mean to the sum\'s step over the count)', () => {
    // docs/disclosure.md: 100 wages with a largest of 23 456 — sum step 250 000, mean step 5 000.
    const wages = [23_456, ...Array.from({ length: 99 }, (_, i) => 3000 + 97 * i)];
    const total = wages.reduce((a, b) => a + b, 0);
    const c = guardCell(agg([{ kind: 'count_persons' }, { kind: 'sum', column: 'v' }, { kind: 'mean', column: 'v' }]), ['A'], ['k'], rowsOf(wages), params);
    expect(c.steps).toEqual([5, 250_000, 5000]);
    const guard = guardOne([
      { name: 'persons', kind: 'count_persons', label: { zh: '人数', en: 'Persons' } },
      { name: 's', kind: 'sum', label: { zh: '和', en: 'Sum' } },
      { name: 'm', kind: 'mean', label: { zh: '均值', en: 'Mean' } },
    ], { persons: 100, s: total, __top1_s: 23_456, __top2_s: 9000, __nz_s: 100, m: total / 100, __top1_m: 23_456, __top2_m: 9000, __nz_m: 100 }, 100);
    expect(c.values).toEqual(guard?.values);
    // Small contributions: steps of 5 for the sum, and a mean step of the 1-2-5 series from 0.1.
    for (const n of [8, 9, 13, 30, 51]) {
      const vals = Array.from({ length: n }, (_, i) => (i % 3) + 1 + 0.5 * (i % 2));
      const s = vals.reduce((a, b) => a + b, 0);
      const top1 = Math.max(...vals);
      const mine = guardCell(agg([{ kind: 'sum', column: 'v' }, { kind: 'mean', column: 'v' }]), ['A'], ['k'], rowsOf(vals), params);
      const theirs = guardOne([{ name: 's', kind: 'sum', label: { zh: '和', en: 'Sum' } }, { name: 'm', kind: 'mean', label: { zh: '均值', en: 'Mean' } }],
        { s, __top1_s: top1, __top2_s: top1, __nz_s: vals.filter((v) => v !== 0).length, m: s / n, __top1_m: top1, __top2_m: top1, __nz_m: vals.filter((v) => v !== 0).length }, n);
      expect(mine.values, `n = ${n}`).toEqual(theirs?.values ?? []);
    }
  });

  it('S1 on mock rows: the roll-up with the totals of the real table, small cells marked, the rest rounded; totals add up to the mock rows', () => {
    const catalog: CatalogDataset[] = CATALOG.map((d) => ({
      id: d.id, domain: d.domain, table: d.table, label: d.label, description: d.description, unit: { column: d.unit.column, kind: d.unit.kind },
      columns: d.columns.map((c) => ({ name: c.name, type: c.type, semantic: c.semantic, level: c.level, label: c.label, nullable: c.nullable ?? false, values: c.values ?? null, bounds: c.bounds ?? null, geoLevel: c.geoLevel ?? null })),
    }));
    const unit = (code: string, level: GeoUnit['level'], parentCode: string | null): GeoUnit => ({ code, level, parentCode, name: { zh: code, en: code }, urbanVillage: false });
    const geography = [unit('D1', 'district', null), unit('S1', 'street', 'D1'), unit('C1', 'community', 'S1'), unit('G1', 'grid', 'C1'), unit('G2', 'grid', 'C1')];
    const json = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as PipelineDocument;
    const ports = (op: string): Ports => (op.startsWith('source') ? { inputs: {}, outputs: { rows: 'rows' } }
      : op.startsWith('geo-rollup') ? { inputs: { rows: 'rows' }, outputs: { table: 'table' } }
        : op.startsWith('output') ? { inputs: { table: 'table' }, outputs: {} } : { inputs: { rows: 'rows' }, outputs: { rows: 'rows' } });
    const r = previewNode(fromDocument(json, ports), 'out', catalog, { geography, asOf: '2026-06-30' });
    if (!r.ok || !r.aggregate) throw new Error('no mock table');
    // The grouping sets as POST /api/pipelines/disclosure-preview states them (the same validation).
    const v = validatePipeline(json);
    if (!v.ok) throw new Error('S1 does not validate');
    const out = v.pipeline.byId.get('rollup')?.outputs['table'];
    if (out?.kind !== 'table') throw new Error('no table');
    const g = guardMockTable(r.aggregate, params, out.groupingSets);
    expect(g.keys).toEqual(out.keys.map((k) => k.name));
    const grand = g.cells.find((c) => c.grouped.length === 0);
    expect(grand?.persons).toBe(r.aggregate.rows.length);
    expect(g.cells.length).toBeGreaterThan(r.rows.length);
    expect(g.suppressed).toBeGreaterThan(0);
    expect(g.suppressed).toBe(g.cells.filter((c) => c.persons <= params.threshold).length);
    for (const c of g.cells) {
      if (c.suppressed) expect(c.values).toEqual([null]);
      else expect(c.values[0]).toBe(Math.round(c.persons / 5) * 5);
      // A total over a key shows no value for it.
      g.keys.forEach((k, i) => { if (!c.grouped.includes(k)) expect(c.keys[i]).toBeNull(); });
    }
    // Without grouping sets (none known): the finest cells only, as many as the mock groups.
    expect(guardMockTable(r.aggregate, params).cells).toHaveLength(r.rows.length);
  });
});
