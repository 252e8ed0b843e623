import { describe, expect, it } from 'vitest';
import { compileRel } from '../../sandbox/compile/plan.compile.ts';
import type { RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { firstError, valid } from '../validate-for-tests.ts';
import { planPipeline } from '../../sandbox/plan/planner.ts';

describe('union@1', () => {
  const appended = (a: string, b: string) => ({
    specVersion: 1, name: 'x',
    nodes: [
      { id: 'a', op: 'source@1', params: { dataset: a } },
      { id: 'b', op: 'source@1', params: { dataset: b } },
      { id: 'both', op: 'union@1', inputs: { a: 'a', b: 'b' }, params: {} },
      { id: 'count', op: 'aggregate@1', inputs: { rows: 'both' }, params: { groupBy: ['community_code'], measures: [{ kind: 'count_persons' }] } },
      { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
    ],
  });

  it('keeps the shared columns with the stricter classification; the unit is no longer unique', () => {
    const p = valid(appended('health.chronic_condition', 'health.pregnancy'));
    const rows = p.byId.get('both')?.outputs['rows'] as RowsRelation;
    expect(rows.columns.map((c) => c.name)).toEqual(['id_number', 'district_code', 'street_code', 'community_code', 'grid_code']);
    expect(rows.unit).toEqual({ column: 'id_number', kind: 'person' });
    expect(rows.datasets).toEqual(['health.chronic_condition', 'health.pregnancy']);
    const stage = planPipeline(p).stages[0];
    if (stage?.kind !== 'domain') throw new Error('no stage');
    expect(compileRel(stage.rel, '2026-06-30').sql).toContain('"n2" AS (SELECT "id_number", "district_code", "street_code", "community_code", "grid_code" FROM "n0" UNION ALL SELECT "id_number", "district_code", "street_code", "community_code", "grid_code" FROM "n1")');
  });

  it('a tag column appended to a tag column stays multi-valued, with both code lists', () => {
    const tagged = (id: string, dataset: string, tags: string[]) => [
      { id: `${id}_src`, op: 'source@1', params: { dataset } },
      { id, op: 'tag@1', inputs: { rows: `${id}_src` }, params: { tags } },
    ];
    const p = valid({
      specVersion: 1, name: 'x',
      nodes: [
        ...tagged('c', 'health.chronic_condition', ['diabetes']), ...tagged('p', 'health.pregnancy', ['pregnant']),
        { id: 'both', op: 'union@1', inputs: { a: 'c', b: 'p' }, params: {} },
        { id: 'count', op: 'aggregate@1', inputs: { rows: 'both' }, params: { groupBy: ['tag'], subtotals: 'margins', measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
      ],
    });
    const tag = (p.byId.get('both')?.outputs['rows'] as RowsRelation).columns.find((c) => c.name === 'tag');
    expect(tag).toMatchObject({ multiValued: true, level: 'L3', identifierOrigins: [] });
    expect(Object.keys(tag?.values ?? {})).toEqual(['diabetes', 'pregnant']);
  });

    it('refuses two departments (LAB-E067) and two different units (LAB-E084)', () => {
    expect(firstError(appended('health.pregnancy', 'civil.disability'))).toMatchObject({ code: 'LAB-E067', nodeId: 'both', field: 'inputs.b' });
    expect(firstError(appended('registry.person', 'registry.household'))).toMatchObject({ code: 'LAB-E084', nodeId: 'both', field: 'inputs.b' });
  });
});
