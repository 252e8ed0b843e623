import { PGlite } from '@electric-sql/pglite';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { mkdirSync } from 'node:fs';
import type { Database } from './database.ts';
import { countLines, quoteIdent } from './database.ts';

/**
 * Adapts one PGlite instance (a single connection) to the pool interface Kysely's
 * PostgresDialect expects. A mutex hands the connection to one client at a time,
 * so a transaction is never interleaved with another caller's queries.
 */
class PGlitePool implements PostgresPool {
  private queue: Promise<void> = Promise.resolve();
  constructor(private readonly pg: PGlite) {}

  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const previous = this.queue;
    this.queue = previous.then(() => released);
    await previous;
    const pg = this.pg;
    // Kysely's client type also has a cursor overload for streaming, which the lab never uses
    // on PGlite; the object below implements the plain query form only.
    const client = {
      async query<R>(sqlText: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
        // Several statements cannot go through the extended protocol (migrations send such text
        // with no parameters); run them with the simple protocol instead.
        if (parameters.length === 0 && /;\s*\S/.test(sqlText)) {
          await pg.exec(sqlText);
          return { command: 'SELECT' as PostgresQueryResult<R>['command'], rowCount: 0, rows: [] };
        }
        const res = await pg.query<R>(sqlText, parameters as unknown[]);
        const command = (sqlText.trimStart().split(/\s/, 1)[0] ?? '').toUpperCase() as PostgresQueryResult<R>['command'];
        return { command, rowCount: res.affectedRows ?? res.rows.length, rows: res.rows };
      },
      release,
    };
    return client as unknown as PostgresPoolClient;
  }

  async end(): Promise<void> {
    await this.queue;
  }
}

/** Value parsing identical to the postgres.js handle: dates as 'YYYY-MM-DD', int8 as number, numeric as string. */
const SAME_AS_POSTGRES_JS = {
  1082: (x: string) => x,
  20: (x: string) => Number(x),
  1700: (x: string) => x,
};

/** Opens (creating if needed) an embedded database in `dir`. */
export async function openPGlite<Schema>(name: string, dir: string): Promise<Database<Schema>> {
  mkdirSync(dir, { recursive: true });
  const pg = new PGlite(dir, { parsers: SAME_AS_POSTGRES_JS });
  await pg.waitReady;
  const pool = new PGlitePool(pg);
  const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  // exec/copyIn take the same mutex as Kysely so nothing interleaves with a transaction.
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try { return await fn(); } finally { client.release(); }
  };
  return {
    name,
    engine: 'pglite',
    kysely,
    exec: (sqlText) => exclusive(async () => { await pg.exec(sqlText); }),
    copyIn: (table, columns, chunks) => exclusive(async () => {
      const target = `${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')})`;
      let rows = 0;
      let batch: (string | Uint8Array)[] = [];
      let size = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await pg.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob(batch) });
        batch = []; size = 0;
      };
      for await (const chunk of chunks) {
        rows += countLines(chunk);
        batch.push(chunk); size += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
        if (size > 8 * 1024 * 1024) await flush();
      }
      await flush();
      return rows;
    }),
    readOnlyQuery: async <R>(sqlText: string, parameters: readonly unknown[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<R[]> => {
      if (options.signal?.aborted) throw new Error('canceling statement due to user request');
      return kysely.transaction().execute(async (trx) => {
        await sql`SET TRANSACTION READ ONLY`.execute(trx);
        await sql.raw(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(options.timeoutMs))}`).execute(trx);
        const res = await trx.executeQuery<R>(CompiledQuery.raw(sqlText, [...parameters]));
        return [...res.rows];
      });
    },
    ping: () => exclusive(async () => { await pg.query('SELECT 1'); }),
    close: async () => { await kysely.destroy(); await pg.close(); },
  };
}
