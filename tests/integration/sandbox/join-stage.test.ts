import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../../sandbox/domains/generator/index.ts';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { executeStage, runStageQuery, stageFor, type StagePayload } from '../../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

/** Tenants by the district of the house they rent: housing.tenancy ⋈ housing.rental_house, in the housing domain. */
const tenantsByHouseDistrict = (condition: string) => ({
  specVersion: 1, name: '租户按房屋所在区 / tenants by house district',
  nodes: [
    { id: 'ten', op: 'source@1', params: { dataset: 'housing.tenancy' } },
    { id: 'cur', op: 'filter@1', inputs: { rows: 'ten' }, params: { condition } },
    { id: 'house', op: 'source@1', params: { dataset: 'housing.rental_house' } },
    { id: 'j', op: 'join@1', inputs: { left: 'cur', right: 'house' }, params: { type: 'inner', leftKey: 'house_id', rightKey: 'house_id', columns: [{ column: 'district_code' }, { column: 'urban_village' }] } },
    { id: 'count', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['district_code', 'urban_village'], measures: [{ kind: 'count_persons' }], subtotals: 'margins' } },
    { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: { title: '租户' } },
  ],
});

/** Rental houses never rented (anti join), and houses with a tenancy (semi join), by district. */
const housesBy = (type: 'semi' | 'anti') => ({
  specVersion: 1, name: `houses ${type}`,
  nodes: [
    { id: 'house', op: 'source@1', params: { dataset: 'housing.rental_house' } },
    { id: 'ten', op: 'source@1', params: { dataset: 'housing.tenancy' } },
    { id: 'j', op: 'join@1', inputs: { left: 'house', right: 'ten' }, params: { type, leftKey: 'house_id', rightKey: 'house_id' } },
    { id: 'count', op: 'aggregate@1', inputs: { rows: 'j' }, params: { groupBy: ['district_code'], measures: [{ kind: 'count_persons', name: 'houses' }], subtotals: 'margins' } },
    { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
  ],
});

const payload = (pipeline: unknown): StagePayload => ({ jobId: 'job1', stageId: 'out', pipeline, guard: DEFAULT_STAFF_PARAMS });
const key = (r: RawRow, keys: readonly string[]) => keys.map((k) => String(r[k] ?? null)).join('|');

describe('join@1 inside the housing domain equals hand-written SQL', () => {
  let lab: TestLab;
  let housing: Database;

  beforeAll(async () => {
    lab = await createPgTestLab();
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    await seedCity({ persons: 10_000, seed: 'join-stage', domains });
    housing = domains.housing;
  }, 240_000);
  afterAll(async () => { await lab?.drop(); });

  /** GROUPING SETS of the hand-written query: the sets the stage's table says it computes. */
  const setsOf = (sets: readonly (readonly string[])[]) => sql.raw(sets.map((set) => `(${set.map((k) => `h.${k === 'district_code' ? 'district_code' : 'urban_village'}`).join(', ')})`).join(', '));

  it('tenants by house district × urban village: distinct persons per cell, though persons repeat across tenancies', async () => {
    const doc = tenantsByHouseDistrict('start_date <= as_of()');
    const stage = stageFor('housing', payload(doc));
    expect(stage.domain).toBe('housing');
    const got = await runStageQuery(housing, stage);
    const want = await sql<RawRow>`
      SELECT h.district_code, h.urban_village, count(DISTINCT t.tenant_id_number)::int AS persons
      FROM tenancy t JOIN rental_house h ON h.house_id = t.house_id
      WHERE t.start_date <= (SELECT value::date FROM lab_meta WHERE key = 'as_of')
      GROUP BY GROUPING SETS (${setsOf(stage.table.groupingSets)})`.execute(housing.kysely);
    const keys = ['district_code', 'urban_village'];
    expect(stage.table.groupingSets).toContainEqual(keys);
    expect(got.length).toBe(want.rows.length);
    const wantBy = new Map(want.rows.map((r) => [key(r, keys), Number(r['persons'])]));
    for (const r of got) {
      expect(Number(r['persons']), key(r, keys)).toBe(wantBy.get(key(r, keys)));
      expect(Number(r['__units'])).toBe(Number(r['persons']));
    }
    // The join does repeat persons (several tenancies each, in more than one cell), so a plain row
    // count would be wrong, and the cells add up to more than the persons.
    const dup = await sql<{ rows: number; persons: number; cells: number }>`
      SELECT count(*)::int AS rows, count(DISTINCT t.tenant_id_number)::int AS persons,
        (SELECT count(*)::int FROM (SELECT DISTINCT t2.tenant_id_number, h2.district_code, h2.urban_village
          FROM tenancy t2 JOIN rental_house h2 ON h2.house_id = t2.house_id WHERE t2.start_date <= (SELECT value::date FROM lab_meta WHERE key = 'as_of')) x) AS cells
      FROM tenancy t WHERE t.start_date <= (SELECT value::date FROM lab_meta WHERE key = 'as_of')`.execute(housing.kysely);
    const d = dup.rows[0];
    expect(d?.rows).toBeGreaterThan(d?.cells ?? 0);
    expect(d?.cells).toBeGreaterThan(d?.persons ?? 0);
    const full = got.filter((r) => Number(r['__grouping']) === 0).reduce((a, r) => a + Number(r['persons']), 0);
    expect(full).toBe(d?.cells);
  });

  it('a condition that holds for every tenancy is refused before anything runs (condition audit, LAB-E125), naming the node and the condition', async () => {
    const doc = tenantsByHouseDistrict("start_date <= as_of() AND (end_date IS NULL OR end_date > as_of())");
    const err = await executeStage(housing, 'housing', payload(doc)).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAB-E125', nodeId: 'cur', field: 'params.condition', span: { start: 0, end: 'start_date <= as_of()'.length } });
    // No count is named: only where the condition is.
    expect((err as { detail?: { en?: string } }).detail?.en).toBe('the condition at characters 1–21 holds, or fails, for only a few persons of the population before filters, which could single out a person');
  });

  it('the released table is the staff guard applied to the hand-written rows', async () => {
    // Current tenancies. Every tenancy started before the snapshot and none ends after it in this
    // city, so `start_date <= as_of()` and `end_date > as_of()` would each be refused (above).
    const doc = tenantsByHouseDistrict('end_date IS NULL');
    const stage = stageFor('housing', payload(doc));
    const hand = await sql<RawRow>`
      SELECT h.district_code, h.urban_village,
        (GROUPING(h.district_code, h.urban_village))::int AS __grouping,
        count(DISTINCT t.tenant_id_number)::int AS __units, count(DISTINCT t.tenant_id_number)::int AS persons
      FROM tenancy t JOIN rental_house h ON h.house_id = t.house_id, (SELECT value::date AS as_of FROM lab_meta WHERE key = 'as_of') m
      WHERE t.end_date IS NULL
      GROUP BY GROUPING SETS (${setsOf(stage.table.groupingSets)})`.execute(housing.kysely);
    const released = await executeStage(housing, 'housing', payload(doc));
    expect(released).toEqual(guardForStaff(stage.table, hand.rows, DEFAULT_STAFF_PARAMS));
    expect(released.rows.some((r) => !r.suppressed)).toBe(true);
  });

  it.each(['semi', 'anti'] as const)('%s join: rental houses with / without any tenancy, by district', async (type) => {
    const got = await runStageQuery(housing, stageFor('housing', payload(housesBy(type))));
    const want = await sql<RawRow>`
      SELECT h.district_code, count(*)::int AS houses FROM rental_house h
      WHERE ${type === 'anti' ? sql`NOT ` : sql``}EXISTS (SELECT 1 FROM tenancy t WHERE t.house_id = h.house_id)
      GROUP BY ROLLUP (h.district_code)`.execute(housing.kysely);
    expect(got.length).toBe(want.rows.length);
    const wantBy = new Map(want.rows.map((r) => [String(r['district_code'] ?? null), Number(r['houses'])]));
    for (const r of got) expect(Number(r['houses'])).toBe(wantBy.get(String(r['district_code'] ?? null)));
    expect(Number(got.find((r) => Number(r['__grouping']) === 1)?.['houses'])).toBeGreaterThan(0);
  });
});
