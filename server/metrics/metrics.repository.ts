import { sql, type Kysely } from 'kysely';
import type { ControlSchema } from '../db/control.schema.ts';

/** Control-database reads behind the scrape-time gauges: one small aggregate each. */
export const metricsRepository = {
  jobsByState: (db: Kysely<ControlSchema>) =>
    db.selectFrom('job').select(['state', sql<number>`count(*)::int`.as('n')]).groupBy('state').execute(),
  /** ε spent per project, summed over its members' budgets (numeric → float for the exposition only). */
  epsilonSpent: (db: Kysely<ControlSchema>) =>
    db.selectFrom('dp_budget').select(['project_id', sql<number>`sum(spent)::float8`.as('spent')]).groupBy('project_id').execute(),
  /** Which of these migrations Kysely's migrator has not recorded as applied (`kysely_migration`). */
  async missingMigrations(db: Kysely<ControlSchema>, names: readonly string[]): Promise<string[]> {
    const r = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
    const have = new Set(r.rows.map((x) => x.name));
    return names.filter((n) => !have.has(n));
  },
};
