import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../sandbox/domains/catalog/index.ts';
import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import { pgDatabaseName, roleUrl } from '../../sandbox/store/topology.ts';
import { createPgTestLab, type TestLab } from '../support/pg-lab.ts';

/** I1/I2 enforced by Postgres itself: each role reaches only its own database. */
describe('database roles (real Postgres)', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await createPgTestLab();
    for (const d of DOMAIN_IDS) await lab.domain(d);
  });
  afterAll(async () => { await lab?.drop(); });

  const connectAs = (role: 'control' | (typeof DOMAIN_IDS)[number], target: 'control' | (typeof DOMAIN_IDS)[number]) => {
    const url = new URL(roleUrl(lab.cfg, role));
    url.pathname = `/${pgDatabaseName(lab.cfg, target)}`;
    return postgres(url.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  };

  it('the control role cannot connect to any domain database', async () => {
    for (const d of DOMAIN_IDS) {
      const sql = connectAs('control', d);
      await expect(sql`SELECT 1`).rejects.toThrow(/permission denied for database/);
      await sql.end();
    }
  });

  it('no domain role can connect to another domain or to the control database', async () => {
    for (const from of DOMAIN_IDS) {
      for (const to of ['control', ...DOMAIN_IDS] as const) {
        if (to === from) continue;
        const sql = connectAs(from, to);
        await expect(sql`SELECT 1`, `${from} → ${to}`).rejects.toThrow(/permission denied for database/);
        await sql.end();
      }
    }
  });

  it('each domain role reads its own tables, and the tables match the catalog column for column', async () => {
    for (const d of DOMAIN_IDS) {
      const sql = connectAs(d, d);
      const rows = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }[]>`
        SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name NOT IN ('geo_unit', 'lab_meta', 'lab_release', 'lab_release_cell', 'lab_guard_key', 'kysely_migration', 'kysely_migration_lock', 'lab_psi_member', 'lab_follow_up_list', 'lab_follow_up_row', 'field_photo', 'lab_face_outcome', 'reference_image')
        ORDER BY table_name, ordinal_position`;
      const expected = CATALOG.filter((ds) => ds.domain === d).flatMap((ds) =>
        ds.columns.map((c) => ({
          table_name: ds.table, column_name: c.name,
          data_type: { text: 'text', date: 'date', int: 'integer', bigint: 'bigint', numeric: 'numeric', boolean: 'boolean', bytea: 'bytea' }[c.type],
          is_nullable: c.nullable ? 'YES' : 'NO',
        })));
      const sortKey = (r: { table_name: string; column_name: string }) => `${r.table_name}.${r.column_name}`;
      expect([...rows].map((r) => ({ ...r })).sort((a, b) => sortKey(a).localeCompare(sortKey(b))))
        .toEqual(expected.sort((a, b) => sortKey(a).localeCompare(sortKey(b))));
      await sql.end();
    }
  });
});
