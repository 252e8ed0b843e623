import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleUrl } from '../store/topology.ts';
import { createPgTestLab, type TestLab } from '../../tests/support/pg-lab.ts';
import { planPipeline, type DomainStage } from '../plan/planner.ts';
import { validatePipeline } from '../pipeline/validate.ts';
import { compileRel } from './plan.compile.ts';

const s1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as unknown;

function stageOf(doc: unknown): DomainStage {
  const v = validatePipeline(doc);
  if (!v.ok) throw v.errors[0];
  const stage = planPipeline(v.pipeline).stages[0];
  if (!stage || stage.kind !== 'domain') throw new Error('no domain stage');
  return stage;
}

describe('plan compiler', () => {
  it('compiles S1 to one parameterised GROUPING SETS query inside the registry domain', () => {
    const stage = stageOf(s1);
    expect(stage.domain).toBe('registry');
    const q = compileRel(stage.rel, '2026-06-30');
    expect(q.parameters).toEqual(['active', '2026-06-30', 0, 15, 25, 45, 60, 80, '0-14', '15-24', '25-44', '45-59', '60-79', '80+']);
    const lines = q.sql.split('\n');
    expect(lines[0]).toBe('WITH "n0" AS (SELECT "person_id", "id_number", "name", "sex", "birth_date", "phone", "household_id", "household_type", "native_region_code", "district_code", "street_code", "community_code", "grid_code", "address", "registered_on", "status", "deregistered_on" FROM "person"),');
    expect(lines[1]).toMatch(/^"n1" AS \(SELECT .* FROM "n0" WHERE \("status" = \$1::text\)\),$/);
    expect(lines[2]).toContain(`(CASE width_bucket(date_part('year', age($2::date, "birth_date"))::bigint, ARRAY[$3::bigint, $4::bigint,`);
    expect(lines[3]).toMatch(/^"n3" AS \(SELECT "district_code", "street_code", "community_code", "grid_code", "household_type", "sex", "age_band", GROUPING\(.*\) AS "__grouping", count\(\*\) AS "__units", count\(\*\) AS "persons" FROM "n2" GROUP BY GROUPING SETS \(\("district_code", "street_code", "community_code", "grid_code", "household_type", "sex", "age_band"\), /);
    expect(lines[4]).toBe('SELECT "district_code", "street_code", "community_code", "grid_code", "household_type", "sex", "age_band", "__grouping", "__units", "persons" FROM "n3"');
    expect(q.sql).not.toContain("'active'");
  });

  it('DP releases: the contribution of each person to a sum is rounded and clamped to the bounds, given as parameters', () => {
    const stage = stageOf({
      specVersion: 1, name: 'subsidy',
      nodes: [
        { id: 's', op: 'source@1', params: { dataset: 'civil.subsidy' } },
        { id: 'r', op: 'geo-rollup@1', inputs: { rows: 's' }, params: { depth: 'district', measures: [{ kind: 'sum', column: 'monthly_amount', name: 'total' }] } },
        { id: 'out', op: 'output@1', inputs: { table: 'r' }, params: { title: 't' } },
      ],
    });
    const plain = compileRel(stage.rel, '2026-06-30');
    expect(plain.sql).toContain('sum("monthly_amount") AS "v_total"');
    const q = compileRel(stage.rel, '2026-06-30', { clampPerUnit: { total: [0, 5000] } });
    expect(q.sql).toMatch(/LEAST\(GREATEST\(round\(sum\("monthly_amount"\)\), \$(\d+)::bigint\), \$(\d+)::bigint\) AS "v_total"/);
    expect(q.parameters.slice(-2)).toEqual([0, 5000]);
  });
});

describe('plan compiler on real Postgres', () => {
  let lab: TestLab;
  let sql: postgres.Sql;
  beforeAll(async () => {
    lab = await createPgTestLab();
    await lab.domain('registry');
    sql = postgres(roleUrl(lab.cfg, 'registry'), { max: 1, onnotice: () => {} });
    // A tiny registry: two districts, mixed types, one deregistered person.
    const rows = [
      ['1', '440104199001010011', 'M', '1990-01-01', 'local', '440104', '440104001', '440104001001', '440104001001001', 'active'],
      ['2', '440104201001010022', 'F', '2010-01-01', 'local', '440104', '440104001', '440104001001', '440104001001001', 'active'],
      ['3', '430102195001010033', 'M', '1950-01-01', 'floating', '440104', '440104001', '440104001002', '440104001002001', 'active'],
      ['4', '440106194001010044', 'F', '1940-01-01', 'local', '440106', '440106001', '440106001001', '440106001001001', 'active'],
      ['5', '440106198001010055', 'M', '1980-01-01', 'local', '440106', '440106001', '440106001001', '440106001001001', 'deregistered'],
      ['6', '440106198501010066', 'F', '1985-01-01', 'floating', '440106', '440106001', '440106001001', '440106001001002', 'active'],
    ];
    for (const r of rows) {
      await sql`INSERT INTO person (person_id, id_number, name, sex, birth_date, household_id, household_type, native_region_code,
        district_code, street_code, community_code, grid_code, address, registered_on, status)
        VALUES (${r[0]!}, ${r[1]!}, '测试', ${r[2]!}, ${r[3]!}, 1, ${r[4]!}, substr(${r[1]!}, 1, 6), ${r[5]!}, ${r[6]!}, ${r[7]!}, ${r[8]!}, '地址', '2020-01-01', ${r[9]!})`;
    }
  });
  afterAll(async () => { await sql?.end(); await lab?.drop(); });

  it('S1 equals a hand-written GROUPING SETS query, cell for cell, as the domain role', async () => {
    const q = compileRel(stageOf(s1).rel, '2026-06-30');
    const lab_ = await sql.unsafe(q.sql, [...q.parameters]);
    const band = `CASE WHEN a < 15 THEN '0-14' WHEN a < 25 THEN '15-24' WHEN a < 45 THEN '25-44' WHEN a < 60 THEN '45-59' WHEN a < 80 THEN '60-79' ELSE '80+' END`;
    const hand = await sql.unsafe(`
      WITH p AS (SELECT *, date_part('year', age(DATE '2026-06-30', birth_date))::int AS a FROM person WHERE status = 'active'),
           b AS (SELECT *, ${band} AS age_band FROM p)
      SELECT district_code, street_code, community_code, grid_code, household_type, sex, age_band, count(*) AS persons
      FROM b GROUP BY GROUPING SETS (
        ${[4, 3, 2, 1, 0].flatMap((i) => {
          const geo = ['district_code', 'street_code', 'community_code', 'grid_code'].slice(0, i);
          const sets: string[] = [];
          for (let mask = 7; mask >= 0; mask--) sets.push(`(${[...geo, ...['household_type', 'sex', 'age_band'].filter((_, j) => mask & (1 << j))].join(', ')})`);
          return sets;
        }).join(', ')})`);
    const key = (r: Record<string, unknown>) => ['district_code', 'street_code', 'community_code', 'grid_code', 'household_type', 'sex', 'age_band'].map((k) => String(r[k])).join('|');
    expect(lab_.length).toBe(hand.length);
    const total = lab_.find((r) => Number(r['__grouping']) === 127);
    expect(Number(total?.['persons'])).toBe(5);
    const sumLab = lab_.reduce((a, r) => a + Number(r['persons']), 0);
    const sumHand = hand.reduce((a, r) => a + Number(r['persons']), 0);
    expect(sumLab).toBe(sumHand);
    // every hand cell appears in the lab output with the same count
    const labByKey = new Map<string, number[]>();
    for (const r of lab_) labByKey.set(key(r), [...(labByKey.get(key(r)) ?? []), Number(r['persons'])]);
    for (const r of hand) expect(labByKey.get(key(r)), key(r)).toContain(Number(r['persons']));
  });
});
