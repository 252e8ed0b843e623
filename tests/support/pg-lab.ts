import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { DOMAIN_MIGRATIONS } from '../../sandbox/domains/migrations/domain.migrations.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { readConfig, type LabConfig } from '../../sandbox/store/lab-config.ts';
import { migrate } from '../../sandbox/store/migrate.ts';
import { dropPostgres, openDatabase, provisionPostgres } from '../../sandbox/store/topology.ts';
import { CONTROL_MIGRATIONS } from '../../server/db/control.migrations.ts';
import type { ControlSchema } from '../../server/db/control.schema.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env.ts';

/**
 * A throwaway lab on the real local Postgres: its own database/role prefix and data folder,
 * provisioned and migrated. Call `drop()` in afterAll.
 */
export interface TestLab {
  readonly cfg: LabConfig;
  readonly control: Database<ControlSchema>;
  domain(id: DomainId): Promise<Database>;
  drop(): Promise<void>;
}

export async function createPgTestLab(): Promise<TestLab> {
  const prefix = `t_${randomBytes(5).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'lab-test-'));
  const cfg = readConfig({ DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LAB_DB_PREFIX: prefix, LAB_DATA_DIR: dataDir, PORT: '0' });
  await provisionPostgres(cfg);
  const control = await openDatabase<ControlSchema>(cfg, 'control', { max: 4 });
  await migrate(control, CONTROL_MIGRATIONS);
  const opened = new Map<DomainId, Database>();
  return {
    cfg,
    control,
    async domain(id) {
      let db = opened.get(id);
      if (!db) {
        db = await openDatabase(cfg, id, { max: 4 });
        await migrate(db, DOMAIN_MIGRATIONS[id]);
        opened.set(id, db);
      }
      return db;
    },
    async drop() {
      await control.close();
      for (const db of opened.values()) await db.close();
      await dropPostgres(cfg);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { DOMAIN_IDS };
