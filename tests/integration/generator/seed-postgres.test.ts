import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity, type GroundTruth, type SeedReport } from '../../../sandbox/domains/generator/index.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { openPostgres } from '../../../sandbox/store/postgres.database.ts';
import { pgDatabaseName, roleUrl } from '../../../sandbox/store/topology.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';
import { TEST_DATABASE_URL } from '../../support/test-env.ts';

/**
 * Seeds a 20 000-person city into a throwaway lab on the real Postgres, then checks it from the
 * outside: every scenario of the ground truth is recomputed by SQL written here from the
 * definitions in docs/data.md (not by calling the generator), across the six domain databases
 * through postgres_fdw in a scratch database (test harness only: the product never joins domains).
 */
const PERSONS = 20_000;
const SEED = 'integration';
const AS_OF = '2026-06-30';

const TABLES_BY_DOMAIN: Record<DomainId, string[]> = {
  registry: ['household', 'person', 'reference_photo'],
  social: ['employment', 'insurance'],
  health: ['chronic_condition', 'pregnancy', 'birth'],
  civil: ['elderly_alone', 'disability', 'subsidy', 'death'],
  housing: ['rental_house', 'tenancy', 'self_declaration'],
  grid: ['visit', 'incident'],
};

describe('seeding the synthetic city into Postgres', () => {
  let lab: TestLab;
  let domains: Record<DomainId, Database>;
  let report: SeedReport;
  let truth: GroundTruth;
  let dir: string;
  let verify: postgres.Sql;
  let verifyDb: string;

  beforeAll(async () => {
    lab = await createPgTestLab();
    domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    dir = mkdtempSync(join(tmpdir(), 'lab-truth-'));
    report = await seedCity({ persons: PERSONS, seed: SEED, asOf: AS_OF, domains, truthFile: join(dir, 'truth.json') });
    truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as GroundTruth;

    // Scratch database with every domain's tables as foreign tables, one schema per domain.
    verifyDb = `${lab.cfg.dbPrefix}_verify`;
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${verifyDb}"`);
    await admin.end();
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${verifyDb}`;
    verify = postgres(url.toString(), { max: 1, onnotice: () => {}, types: { date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x } } });
    await verify.unsafe('CREATE EXTENSION postgres_fdw');
    for (const d of DOMAIN_IDS) {
      await verify.unsafe(`CREATE SERVER s_${d} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${url.hostname}', port '${url.port || '5432'}', dbname '${pgDatabaseName(lab.cfg, d)}')`);
      await verify.unsafe(`CREATE USER MAPPING FOR CURRENT_USER SERVER s_${d} OPTIONS (user '${decodeURIComponent(url.username) || 'postgres'}')`);
      await verify.unsafe(`CREATE SCHEMA ${d}`);
      await verify.unsafe(`IMPORT FOREIGN SCHEMA public LIMIT TO (${TABLES_BY_DOMAIN[d].join(', ')}) FROM SERVER s_${d} INTO ${d}`);
    }
    // Local copies make the cross-domain queries fast (fdw would refetch per join).
    for (const d of DOMAIN_IDS) {
      await verify.unsafe(`CREATE SCHEMA l_${d}`);
      for (const t of TABLES_BY_DOMAIN[d]) await verify.unsafe(`CREATE TABLE l_${d}.${t} AS SELECT * FROM ${d}.${t}; ANALYZE l_${d}.${t}`);
    }
    await verify.unsafe(`CREATE FUNCTION gb11643_ok(id text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE WHEN id ~ '^[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])[0-9]{5}[0-9X]$'
        THEN substr(id, 7, 8) = to_char(make_date(substr(id, 7, 4)::int, substr(id, 11, 2)::int, 1)
                 + (substr(id, 13, 2)::int - 1), 'YYYYMMDD')
             AND substr('10X98765432', (SELECT sum(substr(id, i::int, 1)::int * w) FROM unnest('{7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2}'::int[]) WITH ORDINALITY AS t(w, i))::int % 11 + 1, 1) = substr(id, 18, 1)
        ELSE false END $$`);
  }, 300_000);

  afterAll(async () => {
    await verify?.end();
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${verifyDb}" WITH (FORCE)`);
    await admin.end();
    await lab?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const P = `(SELECT DATE '${AS_OF}' AS asof, (DATE '${AS_OF}' - interval '12 months')::date AS ws, (date_trunc('month', DATE '${AS_OF}') - interval '2 months')::date AS qs) p`;
  const byKey = <T>(rows: T[]) => [...rows].map((r) => JSON.stringify(r)).sort();
  const toMap = (rows: { k: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));

  it('loads every domain and marks it complete', async () => {
    for (const d of DOMAIN_IDS) {
      const meta = await sql<{ key: string; value: string }>`SELECT key, value FROM lab_meta`.execute(domains[d].kysely);
      const m = Object.fromEntries(meta.rows.map((r) => [r.key, r.value]));
      expect(m['complete'], d).toBe('true');
      expect(m['content_hash']).toBe(report.contentHash);
      expect(m['seed']).toBe(SEED);
      const geo = await sql<{ n: number }>`SELECT count(*)::int AS n FROM geo_unit`.execute(domains[d].kysely);
      expect(geo.rows[0]?.n).toBe(report.geography.districts + report.geography.streets + report.geography.communities + report.geography.grids);
      for (const t of TABLES_BY_DOMAIN[d]) {
        const [row] = await verify.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM l_${d}.${t}`);
        expect(row?.n, `${d}.${t}`).toBe(report.rows[`${d}.${t}`]);
        expect(row?.n, `${d}.${t}`).toBeGreaterThan(0);
      }
    }
    expect(truth.contentHash).toBe(report.contentHash);
    expect(truth.persons).toBe(PERSONS);
  });

  it('every ID number in every table passes GB 11643 (checked in SQL)', async () => {
    const columns: [string, string][] = [
      ['l_registry.person', 'id_number'], ['l_registry.reference_photo', 'id_number'], ['l_social.employment', 'id_number'],
      ['l_social.insurance', 'id_number'], ['l_health.chronic_condition', 'id_number'], ['l_health.pregnancy', 'id_number'],
      ['l_health.birth', 'mother_id_number'], ['l_civil.elderly_alone', 'id_number'], ['l_civil.disability', 'id_number'],
      ['l_civil.subsidy', 'id_number'], ['l_civil.death', 'id_number'], ['l_housing.rental_house', 'owner_id_number'],
      ['l_housing.tenancy', 'tenant_id_number'], ['l_grid.visit', 'id_number'],
    ];
    for (const [table, column] of columns) {
      const [row] = await verify.unsafe<{ bad: number; total: number }[]>(`SELECT count(*) FILTER (WHERE NOT gb11643_ok(${column}))::int AS bad, count(*)::int AS total FROM ${table}`);
      expect(row?.bad, `${table}.${column}`).toBe(0);
      expect(row?.total).toBeGreaterThan(0);
    }
    const [p] = await verify.unsafe<{ dup: number; sex: number; birth: number }[]>(`SELECT
      (SELECT count(*) - count(DISTINCT id_number) FROM l_registry.person)::int AS dup,
      count(*) FILTER (WHERE (substr(id_number, 17, 1)::int % 2 = 1) <> (sex = 'M'))::int AS sex,
      count(*) FILTER (WHERE substr(id_number, 7, 8) <> to_char(birth_date, 'YYYYMMDD'))::int AS birth
      FROM l_registry.person`);
    expect(p).toEqual({ dup: 0, sex: 0, birth: 0 });
  });

  it('S1: active registry persons by grid, household type, sex and age band', async () => {
    const rows = await verify.unsafe<{ grid_code: string; household_type: string; sex: string; band: string; n: number }[]>(`
      SELECT grid_code, household_type, sex,
        CASE WHEN age <= 14 THEN '0-14' WHEN age <= 24 THEN '15-24' WHEN age <= 44 THEN '25-44'
             WHEN age <= 59 THEN '45-59' WHEN age <= 79 THEN '60-79' ELSE '80+' END AS band, count(*)::int AS n
      FROM (SELECT r.*, extract(year FROM age(p.asof, r.birth_date))::int AS age FROM l_registry.person r, ${P} WHERE r.status = 'active') x
      GROUP BY 1, 2, 3, 4`);
    expect(byKey(truth.s1.cells)).toEqual(byKey(rows.map((r) => [r.grid_code, r.household_type, r.sex, r.band, r.n])));
  });

  it('S2: tagged persons per community', async () => {
    const q = async (text: string) => toMap(await verify.unsafe<{ k: string; n: number }[]>(text));
    const expected = {
      elderly_alone: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_civil.elderly_alone GROUP BY 1`),
      childless_elderly: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_civil.elderly_alone WHERE kind = 'childless' GROUP BY 1`),
      pregnant: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_health.pregnancy WHERE status = 'ongoing' GROUP BY 1`),
      chronic_any: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_health.chronic_condition GROUP BY 1`),
      hypertension: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_health.chronic_condition WHERE condition = 'hypertension' GROUP BY 1`),
      diabetes: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_health.chronic_condition WHERE condition = 'diabetes' GROUP BY 1`),
      severe_mental: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_health.chronic_condition WHERE condition = 'severe_mental' GROUP BY 1`),
      disabled: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_civil.disability GROUP BY 1`),
      severe_disability: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_civil.disability WHERE grade IN ('1', '2') GROUP BY 1`),
      dibao: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_civil.subsidy, ${P} WHERE subsidy_type = 'dibao' AND since <= p.asof AND (until IS NULL OR until > p.asof) GROUP BY 1`),
      tekun: await q(`SELECT community_code AS k, count(DISTINCT id_number)::int AS n FROM l_civil.subsidy, ${P} WHERE subsidy_type = 'tekun' AND since <= p.asof AND (until IS NULL OR until > p.asof) GROUP BY 1`),
      floating: await q(`SELECT community_code AS k, count(*)::int AS n FROM l_registry.person WHERE status = 'active' AND household_type = 'floating' GROUP BY 1`),
      elderly_80: await q(`SELECT community_code AS k, count(*)::int AS n FROM l_registry.person, ${P} WHERE status = 'active' AND extract(year FROM age(p.asof, birth_date)) >= 80 GROUP BY 1`),
    };
    expect(truth.s2).toEqual(expected);
    for (const [tag, cells] of Object.entries(expected)) expect(Object.keys(cells).length, tag).toBeGreaterThan(0);
  });

  it('S3: undeclared rental houses with an incident in W', async () => {
    const rows = await verify.unsafe<{ district_code: string; house_id: number }[]>(`
      SELECT h.district_code, h.house_id::float8 AS house_id FROM l_housing.rental_house h, ${P}
      WHERE EXISTS (SELECT 1 FROM l_grid.incident i WHERE i.address_key = h.address_key AND i.reported_on > p.ws AND i.reported_on <= p.asof)
        AND NOT EXISTS (SELECT 1 FROM l_housing.self_declaration d WHERE d.house_id = h.house_id)
      ORDER BY h.house_id`);
    expect(truth.s3.houseIds).toEqual(rows.map((r) => r.house_id));
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.district_code] = (counts[r.district_code] ?? 0) + 1;
    expect(truth.s3.byDistrict).toEqual(counts);
    expect(truth.s3.total).toBeGreaterThan(0);
  });

  it('S4a: suspected unregistered, total, per source at the most recent row, and the list', async () => {
    const cte = `WITH emp AS (SELECT id_number, work_district_code AS d, start_date AS day, employment_id AS rid FROM l_social.employment, ${P}
                   WHERE start_date <= p.asof AND (end_date IS NULL OR end_date > p.ws)),
      ten AS (SELECT t.tenant_id_number AS id_number, h.district_code AS d, t.start_date AS day, t.tenancy_id AS rid
              FROM l_housing.tenancy t JOIN l_housing.rental_house h USING (house_id), ${P}
              WHERE t.start_date <= p.asof AND (t.end_date IS NULL OR t.end_date > p.ws)),
      vis AS (SELECT id_number, district_code AS d, visited_on AS day, visit_id AS rid FROM l_grid.visit, ${P}
              WHERE visited_on > p.ws AND visited_on <= p.asof),
      unreg AS (SELECT id_number FROM (SELECT id_number FROM emp UNION SELECT id_number FROM ten UNION SELECT id_number FROM vis) s
                WHERE NOT EXISTS (SELECT 1 FROM l_registry.person r WHERE r.id_number = s.id_number))`;
    const ids = await verify.unsafe<{ id_number: string }[]>(`${cte} SELECT id_number FROM unreg ORDER BY id_number COLLATE "C"`);
    expect(truth.s4a.idNumbers).toEqual(ids.map((r) => r.id_number));
    expect(truth.s4a.total).toBe(ids.length);
    for (const source of ['emp', 'ten', 'vis'] as const) {
      const rows = await verify.unsafe<{ k: string; n: number }[]>(`${cte}
        SELECT d AS k, count(*)::int AS n FROM (SELECT DISTINCT ON (id_number) id_number, d FROM ${source}
          WHERE id_number IN (SELECT id_number FROM unreg) ORDER BY id_number, day DESC, rid DESC) x GROUP BY d`);
      const name = ({ emp: 'employment', ten: 'tenancy', vis: 'visit' } as const)[source];
      expect(truth.s4a.bySource[name], name).toEqual(toMap(rows));
    }
    expect(ids.length).toBeGreaterThan(0);
  });

  it('S4b: suspected should-be-deregistered, deceased before inactive', async () => {
    const rows = await verify.unsafe<{ district_code: string; reason: string; id_number: string }[]>(`
      WITH activity AS (
        SELECT id_number FROM l_social.insurance, ${P} WHERE last_paid_month > p.ws AND last_paid_month <= p.asof
        UNION SELECT id_number FROM l_social.employment, ${P} WHERE start_date <= p.asof AND (end_date IS NULL OR end_date > p.ws)
        UNION SELECT tenant_id_number FROM l_housing.tenancy, ${P} WHERE start_date <= p.asof AND (end_date IS NULL OR end_date > p.ws)
        UNION SELECT id_number FROM l_grid.visit, ${P} WHERE visited_on > p.ws AND visited_on <= p.asof
        UNION SELECT id_number FROM l_health.chronic_condition, ${P} WHERE last_visit_on > p.ws AND last_visit_on <= p.asof
        UNION SELECT id_number FROM l_health.pregnancy, ${P} WHERE registered_on > p.ws AND registered_on <= p.asof)
      SELECT r.district_code, CASE WHEN EXISTS (SELECT 1 FROM l_civil.death d WHERE d.id_number = r.id_number) THEN 'deceased' ELSE 'inactive' END AS reason, r.id_number
      FROM l_registry.person r, ${P}
      WHERE r.status = 'active' AND (EXISTS (SELECT 1 FROM l_civil.death d WHERE d.id_number = r.id_number)
        OR (r.registered_on <= p.ws AND NOT EXISTS (SELECT 1 FROM activity a WHERE a.id_number = r.id_number)))
      ORDER BY r.id_number COLLATE "C"`);
    expect(truth.s4b.idNumbers).toEqual(rows.map((r) => r.id_number));
    const cells: Record<string, number> = {};
    for (const r of rows) cells[`${r.district_code}|${r.reason}`] = (cells[`${r.district_code}|${r.reason}`] ?? 0) + 1;
    expect(Object.fromEntries(truth.s4b.byDistrictReason.map(([d, r, n]) => [`${d}|${r}`, n]))).toEqual(cells);
    expect(rows.some((r) => r.reason === 'deceased')).toBe(true);
    expect(rows.some((r) => r.reason === 'inactive')).toBe(true);
  });

  it('S4c: suspected household separation', async () => {
    const rows = await verify.unsafe<{ district_code: string; id_number: string }[]>(`
      WITH t AS (SELECT DISTINCT ON (t.tenant_id_number) t.tenant_id_number AS id_number, h.district_code AS d
                 FROM l_housing.tenancy t JOIN l_housing.rental_house h USING (house_id), ${P}
                 WHERE t.start_date <= p.asof AND (t.end_date IS NULL OR t.end_date > p.asof)
                 ORDER BY t.tenant_id_number, t.start_date DESC, t.tenancy_id DESC),
           v AS (SELECT DISTINCT ON (id_number) id_number, district_code AS d FROM l_grid.visit, ${P}
                 WHERE visited_on > p.ws AND visited_on <= p.asof ORDER BY id_number, visited_on DESC, visit_id DESC)
      SELECT r.district_code, r.id_number FROM l_registry.person r LEFT JOIN t USING (id_number) LEFT JOIN v USING (id_number)
      WHERE r.status = 'active' AND r.household_type = 'local' AND COALESCE(t.d, v.d) <> r.district_code
      ORDER BY r.id_number COLLATE "C"`);
    expect(truth.s4c.idNumbers).toEqual(rows.map((r) => r.id_number));
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.district_code] = (counts[r.district_code] ?? 0) + 1;
    expect(truth.s4c.byDistrict).toEqual(counts);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('S6: new inflow in the last quarter, registry and any domain', async () => {
    const registry = await verify.unsafe<{ k: string; n: number }[]>(`SELECT district_code AS k, count(*)::int AS n FROM l_registry.person, ${P}
      WHERE household_type = 'floating' AND registered_on >= p.qs AND registered_on <= p.asof GROUP BY 1`);
    const any = await verify.unsafe<{ k: string; n: number }[]>(`
      WITH s AS (
        SELECT id_number, registered_on AS day, 0 AS prio, 0::bigint AS rid, district_code AS d FROM l_registry.person
        UNION ALL SELECT id_number, start_date, 1, employment_id, work_district_code FROM l_social.employment
        UNION ALL SELECT t.tenant_id_number, t.start_date, 2, t.tenancy_id, h.district_code FROM l_housing.tenancy t JOIN l_housing.rental_house h USING (house_id)
        UNION ALL SELECT id_number, visited_on, 3, visit_id, district_code FROM l_grid.visit
        UNION ALL SELECT i.id_number, i.first_paid_month, 4, 0, r.district_code FROM l_social.insurance i JOIN l_registry.person r USING (id_number)),
      first AS (SELECT DISTINCT ON (id_number) id_number, day, d FROM s ORDER BY id_number, day, prio, rid)
      SELECT d AS k, count(*)::int AS n FROM first, ${P} WHERE day >= p.qs AND day <= p.asof GROUP BY d`);
    expect(truth.s6.registry).toEqual(toMap(registry));
    expect(truth.s6.anyDomain).toEqual(toMap(any));
    expect(registry.length).toBeGreaterThan(0);
  });

  it('S7: active floating persons by district, 5-year age band and sex', async () => {
    const rows = await verify.unsafe<{ district_code: string; band: string; sex: string; n: number }[]>(`
      SELECT district_code, CASE WHEN age >= 85 THEN '85+' ELSE (age / 5 * 5)::text || '-' || (age / 5 * 5 + 4)::text END AS band, sex, count(*)::int AS n
      FROM (SELECT r.*, extract(year FROM age(p.asof, r.birth_date))::int AS age FROM l_registry.person r, ${P}
            WHERE r.status = 'active' AND r.household_type = 'floating') x GROUP BY 1, 2, 3`);
    expect(byKey(truth.s7.cells)).toEqual(byKey(rows.map((r) => [r.district_code, r.band, r.sex, r.n])));
  });

  describe('restarts', () => {
    const filenodes = async () => {
      const out: Record<string, number> = {};
      for (const d of DOMAIN_IDS) {
        const r = await sql<{ relname: string; node: number }>`SELECT relname, pg_relation_filenode(oid)::int AS node FROM pg_class
          WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname NOT LIKE 'kysely%'`.execute(domains[d].kysely);
        for (const row of r.rows) out[`${d}.${row.relname}`] = row.node;
      }
      return out;
    };

    it('a second seed with the same options changes nothing', async () => {
      const before = await filenodes();
      const again = await seedCity({ persons: PERSONS, seed: SEED, asOf: AS_OF, domains });
      expect(again.contentHash).toBe(report.contentHash);
      expect(again.rows).toEqual(report.rows);
      expect(await filenodes()).toEqual(before);
    });

    it('an interrupted load (partial table, no completion marker) is redone, and only that domain', async () => {
      const civil = domains.civil;
      await sql`DELETE FROM lab_meta`.execute(civil.kysely);
      await sql`TRUNCATE death`.execute(civil.kysely);
      await sql`INSERT INTO death VALUES ('11010519491231002X', '2020-01-01', '440103')`.execute(civil.kysely);
      await sql`DELETE FROM subsidy WHERE subsidy_id % 2 = 0`.execute(civil.kysely);
      const before = await filenodes();
      const file = join(dir, 'truth-2.json');
      const again = await seedCity({ persons: PERSONS, seed: SEED, asOf: AS_OF, domains, truthFile: file });
      expect(again.contentHash).toBe(report.contentHash);
      const after = await filenodes();
      for (const [table, node] of Object.entries(before)) {
        // The domain's ledger key stays (lab_guard_key); the release ledger is cleared with the data.
        if (table.startsWith('civil.') && table !== 'civil.lab_meta' && table !== 'civil.lab_guard_key') expect(after[table], table).not.toBe(node);
        else if (!table.startsWith('civil.')) expect(after[table], table).toBe(node);
      }
      for (const t of TABLES_BY_DOMAIN.civil) {
        const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(t)}`.execute(civil.kysely);
        expect(r.rows[0]?.n, t).toBe(report.rows[`civil.${t}`]);
      }
      const bogus = await sql<{ n: number }>`SELECT count(*)::int AS n FROM death WHERE id_number = '11010519491231002X'`.execute(civil.kysely);
      expect(bogus.rows[0]?.n).toBe(0);
      const meta = await sql<{ value: string }>`SELECT value FROM lab_meta WHERE key = 'complete'`.execute(civil.kysely);
      expect(meta.rows[0]?.value).toBe('true');
      expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(dir, 'truth.json'), 'utf8'));
    });

    it('loads the same city through a pool of one connection per domain (tables spooled, no deadlock)', async () => {
      const small = {} as Record<DomainId, Database>;
      for (const d of DOMAIN_IDS) {
        await sql`DELETE FROM lab_meta`.execute(domains[d].kysely);
        small[d] = await openPostgres(d, roleUrl(lab.cfg, d), { max: 1 });
      }
      try {
        const again = await seedCity({ persons: PERSONS, seed: SEED, asOf: AS_OF, domains: small });
        expect(again.contentHash).toBe(report.contentHash);
        for (const d of DOMAIN_IDS) {
          for (const t of TABLES_BY_DOMAIN[d]) {
            const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(t)}`.execute(domains[d].kysely);
            expect(r.rows[0]?.n, `${d}.${t}`).toBe(report.rows[`${d}.${t}`]);
          }
        }
      } finally {
        for (const db of Object.values(small)) await db.close();
      }
    });
  });
});
