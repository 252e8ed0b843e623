import { describe, expect, it } from 'vitest';
import { compileRel } from '../../sandbox/compile/plan.compile.ts';
import type { AggregateTable, RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { validatePipeline } from '../../sandbox/pipeline/validate.ts';
import { planPipeline } from '../../sandbox/plan/planner.ts';

interface Node { id: string; op: string; inputs?: Record<string, string>; params: Record<string, unknown> }

/** Tenancies joined to their rental house (same domain: housing), counted by the house's district. */
function tenantsByHouseDistrict(join: Record<string, unknown> = {}, tail: Node[] = [
  { id: 'count', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['district_code'], measures: [{ kind: 'count_persons' }] } },
  { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
]) {
  return {
    specVersion: 1, name: 'tenants by house district',
    nodes: [
      { id: 'ten', op: 'source@1', params: { dataset: 'housing.tenancy' } },
      { id: 'house', op: 'source@1', params: { dataset: 'housing.rental_house' } },
      { id: 'j', op: 'join@1', inputs: { left: 'ten', right: 'house' }, params: { type: 'inner', leftKey: 'house_id', rightKey: 'house_id', columns: [{ column: 'district_code' }], ...join } },
      ...tail,
    ] as Node[],
  };
}

const valid = (doc: unknown) => {
  const v = validatePipeline(doc);
  if (!v.ok) throw v.errors[0];
  return v.pipeline;
};
const firstError = (doc: unknown) => {
  const v = validatePipeline(doc);
  if (v.ok) throw new Error('expected a validation error');
  return v.errors[0];
};
const rowsOf = (doc: unknown, id = 'j') => valid(doc).byId.get(id)?.outputs['rows'] as RowsRelation;

describe('join@1', () => {
  it('brings the right-hand columns along with their classification; the left unit stays, no longer unique', () => {
    const r = rowsOf(tenantsByHouseDistrict());
    expect(r.domain).toBe('housing');
    expect(r.datasets).toEqual(['housing.tenancy', 'housing.rental_house']);
    expect(r.columns.map((c) => c.name)).toEqual(['tenancy_id', 'house_id', 'tenant_id_number', 'start_date', 'end_date', 'district_code']);
    expect(r.columns.at(-1)).toMatchObject({ name: 'district_code', geoLevel: 'district', level: 'L1', identifierOrigins: [], nullable: false });
    expect(r.unit).toEqual({ column: 'tenant_id_number', kind: 'person' });
    // tenancy's unit (the tenant) was never unique: a person may rent several houses
    const table = valid(tenantsByHouseDistrict()).byId.get('count')?.outputs['table'] as AggregateTable;
    expect(table.unitKind).toBe('person');
    expect(table.datasets).toEqual(['housing.tenancy', 'housing.rental_house']);
  });

  it('renames a column; a left join makes right-hand columns nullable; an identifier brought along stays one', () => {
    const r = rowsOf(tenantsByHouseDistrict({ type: 'left', columns: [{ column: 'district_code', as: 'house_district' }, { column: 'owner_id_number', as: 'landlord' }] }, [
      { id: 'count', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['house_district'], measures: [{ kind: 'count_persons' }] } },
      { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
    ]));
    expect(r.columns.slice(-2)).toEqual([
      expect.objectContaining({ name: 'house_district', nullable: true, geoLevel: 'district', identifierOrigins: [] }),
      expect.objectContaining({ name: 'landlord', nullable: true, level: 'L4', identifierOrigins: ['id_number'], semantic: 'id_number' }),
    ]);
  });

  it('keeps a unique unit unique when no left row can repeat: semi, anti, or a right key that is the right unit', () => {
    const persons = (type: string, rightDataset: string, rightKey: string, columns: unknown[] = []) => ({
      specVersion: 1, name: 'x',
      nodes: [
        { id: 'p', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'r', op: 'source@1', params: { dataset: rightDataset } },
        { id: 'j', op: 'join@1', inputs: { left: 'p', right: 'r' }, params: { type, leftKey: rightKey === 'household_id' ? 'household_id' : 'id_number', rightKey, columns } },
        { id: 'a', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['sex'], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'a' }, params: {} },
      ],
    });
    expect(rowsOf(persons('semi', 'registry.reference_photo', 'id_number')).unit.unique).toBe(true);
    expect(rowsOf(persons('anti', 'registry.reference_photo', 'id_number')).unit.unique).toBe(true);
    // reference photos: several per person possible (unit not unique) → an inner join may repeat persons
    expect(rowsOf(persons('inner', 'registry.reference_photo', 'id_number', [{ column: 'captured_on' }])).unit.unique).toBeUndefined();
    // a second person table on its unique unit: persons cannot repeat
    expect(rowsOf(persons('left', 'registry.person', 'id_number', [{ column: 'sex', as: 'sex2' }])).unit.unique).toBe(true);
  });

  it('counts distinct persons after a join that may repeat them (count DISTINCT on the unit), exactly', () => {
    const stage = planPipeline(valid(tenantsByHouseDistrict())).stages[0];
    if (stage?.kind !== 'domain') throw new Error('no domain stage');
    const q = compileRel(stage.rel, '2026-06-30');
    expect(q.sql).toBe([
      'WITH "n0" AS (SELECT "tenancy_id", "house_id", "tenant_id_number", "start_date", "end_date" FROM "tenancy"),',
      '"n1" AS (SELECT "house_id", "address", "address_key", "owner_id_number", "district_code", "street_code", "community_code", "grid_code", "urban_village", "rooms", "area_m2", "registered_on" FROM "rental_house"),',
      '"n2" AS (SELECT l."tenancy_id", l."house_id", l."tenant_id_number", l."start_date", l."end_date", r."district_code" AS "district_code" FROM "n0" l JOIN "n1" r ON l."house_id" = r."house_id"),',
      '"n3" AS (SELECT "district_code", GROUPING("district_code") AS "__grouping", count(DISTINCT "tenant_id_number") AS "__units", count(DISTINCT "tenant_id_number") AS "persons" FROM "n2" GROUP BY GROUPING SETS (("district_code")))',
      'SELECT "district_code", "__grouping", "__units", "persons" FROM "n3"',
    ].join('\n'));
    expect(q.parameters).toEqual([]);
  });

  it('semi and anti joins compile to EXISTS / NOT EXISTS and keep only the left columns', () => {
    for (const type of ['semi', 'anti'] as const) {
      const doc = tenantsByHouseDistrict({ type, columns: [] }, [
        { id: 'count', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: [], measures: [{ kind: 'count_persons' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
      ]);
      expect(rowsOf(doc).columns.map((c) => c.name)).toEqual(['tenancy_id', 'house_id', 'tenant_id_number', 'start_date', 'end_date']);
      const stage = planPipeline(valid(doc)).stages[0];
      if (stage?.kind !== 'domain') throw new Error('no domain stage');
      expect(compileRel(stage.rel, '2026-06-30').sql).toContain(`FROM "n0" l WHERE ${type === 'anti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM "n1" r WHERE l."house_id" = r."house_id")`);
    }
  });

  it('an identifier may be a join key, but grouping on one brought along is refused (I3)', () => {
    const byLandlord = tenantsByHouseDistrict({ columns: [{ column: 'owner_id_number' }] }, [
      { id: 'count', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['owner_id_number'], measures: [{ kind: 'count_persons' }] } },
      { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
    ]);
    expect(firstError(byLandlord)).toMatchObject({ code: 'LAB-E063', nodeId: 'count', field: 'params.groupBy.0' });
    const viaSubstr = tenantsByHouseDistrict({ columns: [{ column: 'owner_id_number' }] }, [
      { id: 'd', op: 'derive@1', inputs: { rows: 'j' }, params: { columns: [{ name: 'pfx', expr: 'substr(owner_id_number, 1, 6)' }] } },
      { id: 'count', op: 'aggregate@1', inputs: { rows: 'd' }, params: { groupBy: ['pfx'], measures: [{ kind: 'count_persons' }] } },
      { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
    ]);
    expect(firstError(viaSubstr)).toMatchObject({ code: 'LAB-E063', nodeId: 'count', field: 'params.groupBy.0' });
  });

  it.each([
    ['unknown left key', { leftKey: 'house' }, 'LAB-E052', 'params.leftKey'],
    ['unknown right key', { rightKey: 'houseid' }, 'LAB-E052', 'params.rightKey'],
    ['unknown right column', { columns: [{ column: 'district' }] }, 'LAB-E052', 'params.columns.0.column'],
    ['a right column clashing with a left one', { columns: [{ column: 'house_id' }] }, 'LAB-E064', 'params.columns.0.column'],
    ['a rename clashing with a left column', { columns: [{ column: 'district_code', as: 'start_date' }] }, 'LAB-E064', 'params.columns.0.as'],
    ['two right columns with one name', { columns: [{ column: 'district_code', as: 'd' }, { column: 'street_code', as: 'd' }] }, 'LAB-E064', 'params.columns.1.as'],
    ['keys of different types', { leftKey: 'start_date', rightKey: 'house_id' }, 'LAB-E085', 'params.rightKey'],
    ['text key to an integer key', { leftKey: 'tenant_id_number', rightKey: 'house_id' }, 'LAB-E085', 'params.rightKey'],
    ['columns on a semi join', { type: 'semi' }, 'LAB-E003', 'params.columns'],
    ['an unknown join type', { type: 'cross' }, 'LAB-E003', 'params.type'],
    ['a bad rename', { columns: [{ column: 'district_code', as: 'District Code' }] }, 'LAB-E003', 'params.columns.0.as'],
    ['an unknown parameter', { on: 'house_id = house_id' }, 'LAB-E003', 'params'],
  ])('%s → %s on the join node and field', (_name, join, code, field) => {
    expect(firstError(tenantsByHouseDistrict(join))).toMatchObject({ code, nodeId: 'j', field });
  });

  it('needs both inputs connected, to row data', () => {
    const d = tenantsByHouseDistrict();
    d.nodes[2]!.inputs = { left: 'ten' };
    expect(firstError(d)).toMatchObject({ code: 'LAB-E061', nodeId: 'j', field: 'inputs.right' });
    const t2 = tenantsByHouseDistrict();
    t2.nodes[2]!.inputs = { left: 'ten', right: 'count' };
    expect(firstError(t2)).toMatchObject({ code: 'LAB-E061', nodeId: 'j', field: 'inputs.right' });
  });

  const crossDoc = (params: Record<string, unknown>) => ({
    specVersion: 1, name: 'cross',
    nodes: [
      { id: 'ten', op: 'source@1', params: { dataset: 'housing.tenancy' } },
      { id: 'reg', op: 'source@1', params: { dataset: 'registry.person' } },
      { id: 'unreg', op: 'join@1', inputs: { left: 'ten', right: 'reg' }, params: { type: 'anti', leftKey: 'tenant_id_number', rightKey: 'id_number', ...params } },
      { id: 'count', op: 'aggregate@1', inputs: { rows: 'unreg' }, params: { measures: [{ kind: 'count_persons' }] } },
      { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
    ],
  });

  it('an anti join across two domains on ID numbers plans as a PSI membership step (receiver: the left domain) and a member node', () => {
    const plan = planPipeline(valid(crossDoc({})));
    const [step, stage] = plan.stages;
    expect(step).toMatchObject({ kind: 'protocol', id: 'psi~unreg', protocol: 'psi-membership', receiver: 'housing', sender: 'registry', receiverKey: 'tenant_id_number', senderKey: 'id_number', after: [] });
    expect(stage).toMatchObject({ kind: 'domain', domain: 'housing', after: ['psi~unreg'] });
    if (stage?.kind !== 'domain') throw new Error('no stage');
    expect(compileRel(stage.rel, '2026-06-30', { jobId: 'job1' }).sql).toContain(
      'WHERE NOT EXISTS (SELECT 1 FROM "lab_psi_member" m WHERE m."job_id" = $1::text AND m."step_id" = $2::text AND m."item" = upper(btrim(s."tenant_id_number"::text)))');
    expect(() => compileRel(stage.rel, '2026-06-30')).toThrow(/without its job/);
  });

  it('across domains: inner and left joins are LAB-E161 on params.type; keys that are not identifiers LAB-E160', () => {
    expect(() => planPipeline(valid(crossDoc({ type: 'inner' })))).toThrow(expect.objectContaining({ code: 'LAB-E161', nodeId: 'unreg', field: 'params.type' }));
    expect(() => planPipeline(valid(crossDoc({ type: 'left' })))).toThrow(expect.objectContaining({ code: 'LAB-E161', nodeId: 'unreg' }));
    expect(() => planPipeline(valid(crossDoc({ leftKey: 'house_id', rightKey: 'household_id' })))).toThrow(expect.objectContaining({ code: 'LAB-E160', nodeId: 'unreg' }));
  });
});
