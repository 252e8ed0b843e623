import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { DOMAIN_MIGRATIONS } from '../domains/migrations/domain.migrations.ts';
import { migrate } from './migrate.ts';
import { openPGlite } from './pglite.database.ts';

describe('PGlite handle (embedded mode)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-pglite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies multi-statement migrations, copies rows in, parses values like postgres.js, and reopens', async () => {
    const db = await openPGlite<Record<string, never>>('civil', join(dir, 'civil'));
    expect(await migrate(db, DOMAIN_MIGRATIONS.civil)).toEqual(['0001-initial', '0002-release-ledger', '0003-ledger-suppressed-cells', '0004-psi']);
    const n = await db.copyIn('death', ['id_number', 'death_date', 'district_code'], (async function* () {
      yield '440104195001010011\t2026-01-02\t440104\n';
      yield '440104195001010022\t2026-02-03\t440104\n';
    })());
    expect(n).toBe(2);
    const { rows } = await sql<{ n: number; d: string }>`SELECT count(*) AS n, max(death_date) AS d FROM death`.execute(db.kysely);
    expect(rows[0]).toEqual({ n: 2, d: '2026-02-03' });
    await db.close();
    const again = await openPGlite('civil', join(dir, 'civil'));
    expect(await migrate(again, DOMAIN_MIGRATIONS.civil)).toEqual([]);
    await again.close();
  });
});
