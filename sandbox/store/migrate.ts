import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { LabError, t } from '../errors/index.ts';
import type { Database } from './database.ts';

/** A migration as plain SQL text (several statements allowed). Names sort in apply order. */
export interface SqlMigration {
  readonly name: string;
  readonly up: string;
}

class ListProvider implements MigrationProvider {
  constructor(private readonly list: readonly SqlMigration[]) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const m of this.list) {
      out[m.name] = { up: async (db: Kysely<unknown>) => { await sql.raw(m.up).execute(db); } };
    }
    return out;
  }
}

/** Applies every pending migration; all-or-nothing per migration. */
export async function migrate<S>(db: Database<S>, migrations: readonly SqlMigration[]): Promise<string[]> {
  const migrator = new Migrator({ db: db.kysely as unknown as Kysely<unknown>, provider: new ListProvider(migrations) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '?';
    throw new LabError('LAB-E022', {
      detail: t(`数据库 ${db.name} 迁移 ${failed} 失败`, `migration ${failed} of database ${db.name} failed`),
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
