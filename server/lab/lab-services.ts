import type { Logger } from 'pino';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { DEFAULT_AS_OF, GENERATOR_VERSION, seedCity, geographyFor, type SeedReport } from '../../sandbox/domains/generator/index.ts';
import { DOMAIN_MIGRATIONS } from '../../sandbox/domains/migrations/domain.migrations.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { LabConfig } from '../../sandbox/store/lab-config.ts';
import { migrate } from '../../sandbox/store/migrate.ts';
import { openPostgres } from '../../sandbox/store/postgres.database.ts';
import { openDatabase, provisionPostgres } from '../../sandbox/store/topology.ts';
import { CONTROL_MIGRATIONS } from '../db/control.migrations.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { saveGeography, syncCatalog } from '../services/catalog.service.ts';

/** Provisions (Postgres mode) and migrates the control database; syncs the catalog metadata. */
export async function openControl(cfg: LabConfig, logger: Logger): Promise<Database<ControlSchema>> {
  if (cfg.mode === 'postgres') await provisionPostgres(cfg);
  const control = await openDatabase<ControlSchema>(cfg, 'control');
  const applied = await migrate(control, CONTROL_MIGRATIONS);
  if (applied.length) logger.info({ applied }, 'control database migrated');
  await syncCatalog(control);
  return control;
}

/**
 * The control database of a coordinator that runs alone (docs/deploy.md): opened with the control
 * role's own URL, migrated and its catalog synced; nothing provisioned (no admin URL here).
 */
export async function openControlAt(url: string, logger: Logger): Promise<Database<ControlSchema>> {
  const control = await openPostgres<ControlSchema>('control', url);
  const applied = await migrate(control, CONTROL_MIGRATIONS);
  if (applied.length) logger.info({ applied }, 'control database migrated');
  await syncCatalog(control);
  return control;
}

/** Opens and migrates every domain database with each domain's own credentials. Launcher tools only. */
export async function openDomains(cfg: LabConfig): Promise<Record<DomainId, Database>> {
  const out: Partial<Record<DomainId, Database>> = {};
  for (const d of DOMAIN_IDS) {
    const db = await openDatabase(cfg, d);
    await migrate(db, DOMAIN_MIGRATIONS[d]);
    out[d] = db;
  }
  return out as Record<DomainId, Database>;
}

export interface SeedRequest { persons: number; seed: string; truthFile?: string; asOf?: string }

/** Loads a synthetic city into the domains, then records its geography and size in the control DB. */
export async function seedLab(control: Database<ControlSchema>, domains: Record<DomainId, Database>, req: SeedRequest, logger: Logger): Promise<SeedReport> {
  let lastLog = 0;
  const report = await seedCity({
    persons: req.persons, seed: req.seed, domains,
    ...(req.truthFile ? { truthFile: req.truthFile } : {}),
    ...(req.asOf ? { asOf: req.asOf } : {}),
    onProgress: (p) => {
      const now = Date.now();
      if (now - lastLog > 2000) { lastLog = now; logger.info(p, 'seeding'); }
    },
  });
  await saveGeography(control, geographyFor(req.persons, req.seed));
  await control.kysely.deleteFrom('city_snapshot').execute();
  await control.kysely.insertInto('city_snapshot').values({
    id: 1, seed: req.seed, persons: report.persons, as_of: req.asOf ?? DEFAULT_AS_OF, generator_version: GENERATOR_VERSION,
  }).execute();
  return report;
}
