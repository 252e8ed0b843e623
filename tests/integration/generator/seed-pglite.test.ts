import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity, type GroundTruth, type SeedReport } from '../../../sandbox/domains/generator/index.ts';
import { DOMAIN_MIGRATIONS } from '../../../sandbox/domains/migrations/domain.migrations.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { migrate } from '../../../sandbox/store/migrate.ts';
import { openPGlite } from '../../../sandbox/store/pglite.database.ts';

/** Embedded mode: the same loader into PGlite databases (tables spooled, then COPYed one by one). */
describe('seeding the synthetic city into PGlite', () => {
  let dir: string;
  let domains: Record<DomainId, Database>;
  let report: SeedReport;
  let truth: GroundTruth;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lab-pglite-seed-'));
    domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) {
      const db = await openPGlite(d, join(dir, d));
      await migrate(db, DOMAIN_MIGRATIONS[d]);
      domains[d] = db;
    }
    report = await seedCity({ persons: 10_000, seed: 'embedded', domains, truthFile: join(dir, 'truth.json') });
    truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as GroundTruth;
  }, 180_000);

  afterAll(async () => {
    for (const db of Object.values(domains ?? {})) await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads every table with the reported row counts', async () => {
    for (const [id, n] of Object.entries(report.rows)) {
      const [domain, table] = id.split('.') as [DomainId, string];
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(domains[domain].kysely);
      expect(r.rows[0]?.n, id).toBe(n);
      expect(n, id).toBeGreaterThan(0);
    }
    const meta = await sql<{ value: string }>`SELECT value FROM lab_meta WHERE key = 'complete'`.execute(domains.grid.kysely);
    expect(meta.rows[0]?.value).toBe('true');
  });

  it('S1 of the truth adds up to the active persons in the registry', async () => {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM person WHERE status = 'active'`.execute(domains.registry.kysely);
    expect(truth.s1.cells.reduce((a, c) => a + c[4], 0)).toBe(r.rows[0]?.n);
    expect(truth.contentHash).toBe(report.contentHash);
  });

  it('stores Chinese text intact', async () => {
    const r = await sql<{ name_zh: string }>`SELECT name_zh FROM geo_unit WHERE code = '440106'`.execute(domains.registry.kysely);
    expect(r.rows[0]?.name_zh).toBe('天河区');
    const a = await sql<{ n: number }>`SELECT count(*)::int AS n FROM person WHERE address LIKE '广州市%'`.execute(domains.registry.kysely);
    expect(a.rows[0]?.n).toBe(report.rows['registry.person']);
  });
});
