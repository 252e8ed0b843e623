import { describe, expect, it } from 'vitest';
import { compileRel } from '../../sandbox/compile/plan.compile.ts';
import type { AggregateTable, RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { firstError, valid } from '../validate-for-tests.ts';
import { planPipeline } from '../../sandbox/plan/planner.ts';

interface Node { id: string; op: string; inputs?: Record<string, string>; params: Record<string, unknown> }

/** source → tag → aggregate (by community × tag unless told) → output. */
function doc(dataset: string, tags: unknown, groupBy: string[] = ['community_code', 'tag']): { specVersion: 1; name: string; nodes: Node[] } {
  return {
    specVersion: 1, name: 'tags',
    nodes: [
      { id: 'src', op: 'source@1', params: { dataset } },
      { id: 'tagged', op: 'tag@1', inputs: { rows: 'src' }, params: { tags } },
      { id: 'count', op: 'aggregate@1', inputs: { rows: 'tagged' }, params: { groupBy, measures: [{ kind: 'count_persons' }] } },
      { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
    ],
  };
}

describe('tag@1', () => {
  it('adds a categorical tag column labelled from the library, at least as sensitive as its rules, never an identifier', () => {
    const p = valid(doc('registry.person', ['floating', 'legacy_id_15']));
    const rows = p.byId.get('tagged')?.outputs['rows'] as RowsRelation;
    const tag = rows.columns.find((c) => c.name === 'tag');
    expect(tag).toMatchObject({ type: 'text', semantic: 'category', identifierOrigins: [], nullable: false });
    expect(tag?.values).toEqual({
      floating: { zh: '流动人口', en: 'Floating population' },
      legacy_id_15: { zh: '身份号码未升位（15 位）', en: 'ID number not upgraded (15 digits)' },
    });
    // legacy_id_15 reads id_number (L4, an identifier): the tag is L4 but still groupable (I3).
    expect(tag?.level).toBe('L4');
    const table = p.byId.get('count')?.outputs['table'] as AggregateTable;
    expect(table.keys.map((k) => k.name)).toEqual(['community_code', 'tag']);
    expect(table.level).toBe('L4');
    // Every input column is kept, identifiers stay identifiers.
    expect(rows.columns.find((c) => c.name === 'id_number')?.identifierOrigins).toEqual(['id_number']);
  });

  it('takes the declared level when the rule reads nothing sensitive', () => {
    const p = valid(doc('civil.elderly_alone', ['elderly_alone']));
    const rows = p.byId.get('tagged')?.outputs['rows'] as RowsRelation;
    expect(rows.columns.find((c) => c.name === 'tag')?.level).toBe('L3');
  });

  it('one row per unit only while a unique unit gets one tag; otherwise counts become distinct counts', () => {
    const one = valid(doc('registry.person', ['floating'])).byId.get('tagged')?.outputs['rows'] as RowsRelation;
    expect(one.unit).toEqual({ column: 'id_number', kind: 'person', unique: true });
    const two = valid(doc('registry.person', ['floating', 'elderly_80']));
    expect((two.byId.get('tagged')?.outputs['rows'] as RowsRelation).unit).toEqual({ column: 'id_number', kind: 'person' });
    const stage = planPipeline(two).stages[0];
    if (stage?.kind !== 'domain') throw new Error('no stage');
    expect(compileRel(stage.rel, '2026-06-30').sql).toContain('count(DISTINCT "id_number") AS "persons"');
  });

  it('compiles to a lateral VALUES list: tag ids and every literal are parameters', () => {
    const p = valid(doc('civil.subsidy', ['dibao', 'tekun']));
    const stage = planPipeline(p).stages[0];
    if (stage?.kind !== 'domain') throw new Error('no stage');
    expect(stage.domain).toBe('civil');
    const q = compileRel(stage.rel, '2026-06-30');
    const lines = q.sql.split('\n');
    const rule = (a: number) => `(((s."subsidy_type" = $${a}::text) AND (s."since" <= $${a + 1}::date)) AND ((s."until" IS NULL) OR (s."until" > $${a + 2}::date)))`;
    expect(lines[1]).toBe(`"n1" AS (SELECT s."subsidy_id", s."id_number", s."subsidy_type", s."monthly_amount", s."since", s."until", s."district_code", s."street_code", s."community_code", s."grid_code", t."tag" FROM "n0" s CROSS JOIN LATERAL (VALUES ($1::text, ${rule(2)}), ($5::text, ${rule(6)})) AS t("tag", "__hit") WHERE t."__hit"),`);
    expect(q.parameters).toEqual(['dibao', 'dibao', '2026-06-30', '2026-06-30', 'tekun', 'tekun', '2026-06-30', '2026-06-30']);
    expect(q.sql).not.toMatch(/'dibao'|'tekun'/);
  });

  it('an unknown tag: LAB-E080 on the node and the tag’s field, with the usable tags as a hint', () => {
    const e = firstError(doc('registry.person', ['floating', 'unicorn_owner']));
    expect(e).toMatchObject({ code: 'LAB-E080', nodeId: 'tagged', field: 'params.tags.1' });
    expect(e.toBody('en').hint).toContain('elderly_80');
  });

  it('a tag of another dataset: LAB-E081 naming both datasets', () => {
    const e = firstError(doc('registry.person', ['floating', 'elderly_80', 'pregnant']));
    expect(e).toMatchObject({ code: 'LAB-E081', nodeId: 'tagged', field: 'params.tags.2' });
    expect(e.messageIn('en')).toContain('health.pregnancy');
    expect(e.messageIn('en')).toContain('registry.person');
  });

  it('a tag listed twice, or a tag node on tagged rows: LAB-E064', () => {
    expect(firstError(doc('registry.person', ['floating', 'floating']))).toMatchObject({ code: 'LAB-E064', nodeId: 'tagged', field: 'params.tags.1' });
    const d = doc('registry.person', ['floating']);
    d.nodes.splice(2, 0, { id: 'again', op: 'tag@1', inputs: { rows: 'tagged' }, params: { tags: ['elderly_80'] } });
    d.nodes[3]!.inputs = { rows: 'again' };
    expect(firstError(d)).toMatchObject({ code: 'LAB-E064', nodeId: 'again', field: 'params.tags' });
  });

  it('a rule whose columns the input no longer has: LAB-E082', () => {
    // Appending disability rows to elderly rows keeps only the shared columns; `kind` is gone.
    const d = {
      specVersion: 1, name: 'x',
      nodes: [
        { id: 'a', op: 'source@1', params: { dataset: 'civil.elderly_alone' } },
        { id: 'b', op: 'source@1', params: { dataset: 'civil.disability' } },
        { id: 'both', op: 'union@1', inputs: { a: 'a', b: 'b' }, params: {} },
        { id: 'tagged', op: 'tag@1', inputs: { rows: 'both' }, params: { tags: ['disabled', 'childless_elderly'] } },
        { id: 'count', op: 'aggregate@1', inputs: { rows: 'tagged' }, params: { groupBy: ['tag'], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
      ],
    };
    const e = firstError(d);
    expect(e).toMatchObject({ code: 'LAB-E082', nodeId: 'tagged', field: 'params.tags.1' });
    expect(e.messageIn('en')).toContain('kind');
  });

  it('bad parameters: none selected, not a list, unknown keys (LAB-E003 on the field)', () => {
    expect(firstError(doc('registry.person', []))).toMatchObject({ code: 'LAB-E003', nodeId: 'tagged', field: 'params.tags' });
    expect(firstError(doc('registry.person', 'floating'))).toMatchObject({ code: 'LAB-E003', nodeId: 'tagged', field: 'params.tags' });
    const d = doc('registry.person', ['floating']);
    d.nodes[1]!.params = { tags: ['floating'], rule: 'TRUE' };
    expect(firstError(d)).toMatchObject({ code: 'LAB-E003', nodeId: 'tagged', field: 'params' });
  });

  it('subtotals stay within a tag: grouping sets that roll the tag up are left out (also through derive and union)', () => {
    const margins = doc('health.chronic_condition', ['chronic_any', 'hypertension']);
    margins.nodes[2]!.params = { groupBy: ['community_code', 'tag'], subtotals: 'margins', measures: [{ kind: 'count_persons' }] };
    expect((valid(margins).byId.get('count')?.outputs['table'] as AggregateTable).groupingSets).toEqual([['community_code', 'tag'], ['tag']]);

    const rollup = doc('health.chronic_condition', ['chronic_any', 'hypertension']);
    rollup.nodes[2] = { id: 'count', op: 'geo-rollup@1', inputs: { rows: 'tagged' }, params: { depth: 'community', by: ['tag'] } };
    const p = valid(rollup);
    const sets = [['district_code', 'street_code', 'community_code', 'tag'], ['district_code', 'street_code', 'tag'], ['district_code', 'tag'], ['tag']];
    expect((p.byId.get('count')?.outputs['table'] as AggregateTable).groupingSets).toEqual(sets);
    const stage = planPipeline(p).stages[0];
    if (stage?.kind !== 'domain' || stage.rel.kind !== 'aggregate') throw new Error('no aggregate stage');
    expect(stage.rel.groupingSets).toEqual(sets);

    const derived = doc('health.chronic_condition', ['chronic_any', 'hypertension'], ['grp']);
    derived.nodes.splice(2, 0, { id: 'd', op: 'derive@1', inputs: { rows: 'tagged' }, params: { columns: [{ name: 'grp', expr: "CASE WHEN tag = 'hypertension' THEN 'h' ELSE 'c' END" }] } });
    derived.nodes[3]!.inputs = { rows: 'd' };
    derived.nodes[3]!.params = { groupBy: ['grp'], subtotals: 'margins', measures: [{ kind: 'count_persons' }] };
    expect((valid(derived).byId.get('count')?.outputs['table'] as AggregateTable).groupingSets).toEqual([['grp']]);

    // Untagged, on a dataset with several rows per person: a person's conditions vary, their
    // community does not (placePerUnit), so only the margin across communities stays.
    const plain = doc('health.chronic_condition', ['chronic_any']);
    plain.nodes.splice(1, 1);
    plain.nodes[1]!.inputs = { rows: 'src' };
    plain.nodes[1]!.params = { groupBy: ['community_code', 'condition'], subtotals: 'margins', measures: [{ kind: 'count_persons' }] };
    expect((valid(plain).byId.get('count')?.outputs['table'] as AggregateTable).groupingSets).toEqual([['community_code', 'condition'], ['condition']]);
    // One row per person: every margin stays.
    const person = doc('registry.person', ['floating']);
    person.nodes.splice(1, 1);
    person.nodes[1]!.inputs = { rows: 'src' };
    person.nodes[1]!.params = { groupBy: ['community_code', 'sex'], subtotals: 'margins', measures: [{ kind: 'count_persons' }] };
    expect((valid(person).byId.get('count')?.outputs['table'] as AggregateTable).groupingSets).toHaveLength(4);
  });

  it('identifiers are still refused as group keys after a tag, even when a rule reads one (I3)', () => {
    expect(firstError(doc('registry.person', ['legacy_id_15'], ['id_number', 'tag']))).toMatchObject({ code: 'LAB-E063', nodeId: 'count', field: 'params.groupBy.0' });
    expect(firstError(doc('registry.person', ['floating'], ['tag', 'name']))).toMatchObject({ code: 'LAB-E063', nodeId: 'count', field: 'params.groupBy.1' });
  });
});
