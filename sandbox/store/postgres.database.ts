import { Kysely } from 'kysely';
import postgres from 'postgres';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Database } from './database.ts';
import { PostgresJsDialect } from './postgres-js.driver.ts';
import { countLines, quoteIdent } from './database.ts';

export interface PostgresOptions {
  /** Pool size. */
  readonly max?: number;
  /** Milliseconds before a statement is cancelled (0 = no limit). */
  readonly statementTimeoutMs?: number;
  readonly applicationName?: string;
}

/** Opens a database on a real Postgres server through postgres.js. */
export async function openPostgres<Schema>(name: string, url: string, options: PostgresOptions = {}): Promise<Database<Schema>> {
  const connection: Record<string, string> = { application_name: options.applicationName ?? `data-lab:${name}` };
  if (options.statementTimeoutMs) connection['statement_timeout'] = String(options.statementTimeoutMs);
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection,
    // Dates stay strings (YYYY-MM-DD): no time-zone shifts on calendar dates.
    types: {
      date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x },
      int8: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  });
  await sql`SELECT 1`; // fail fast with a clear cause if the server or credentials are wrong
  const kysely = new Kysely<Schema>({ dialect: new PostgresJsDialect(sql) });
  // Stage queries: one pooled (never reserved) connection, read-only from its start-up parameters;
  // with max 1 the SET and the SELECT go to the same session in order.
  let reader: postgres.Sql | undefined;
  const readerClient = () => {
    reader ??= postgres(url, {
      max: 1, onnotice: () => {},
      connection: { application_name: `${connection['application_name'] ?? name}:stage`, default_transaction_read_only: true },
      types: {
        date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x },
        int8: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
      },
    });
    return reader;
  };
  return {
    name,
    engine: 'postgres',
    kysely,
    exec: async (sqlText) => { await sql.unsafe(sqlText); },
    copyIn: async (table, columns, chunks) => {
      const target = `${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')})`;
      let rows = 0;
      async function* counted() {
        for await (const chunk of chunks) {
          rows += countLines(chunk);
          yield chunk;
        }
      }
      const writable = await sql.unsafe(`COPY ${target} FROM STDIN`).writable();
      await pipeline(Readable.from(counted()), writable);
      return rows;
    },
    readOnlyQuery: async <R>(sqlText: string, parameters: readonly unknown[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<R[]> => {
      const r = readerClient();
      const timeout = Math.max(1, Math.floor(options.timeoutMs));
      await r.unsafe(`SET statement_timeout = ${timeout}`);
      let onAbort: (() => void) | undefined;
      if (options.signal) {
        const rows = await r.unsafe<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
        const pid = rows[0]?.pid;
        onAbort = () => { if (pid !== undefined) sql`SELECT pg_cancel_backend(${pid})`.then(() => undefined, () => undefined); };
        options.signal.addEventListener('abort', onAbort, { once: true });
      }
      try {
        if (options.signal?.aborted) throw new Error('canceling statement due to user request');
        const rows = await r.unsafe(sqlText, parameters as postgres.ParameterOrJSON<never>[]);
        return [...rows] as R[];
      } finally {
        if (onAbort) options.signal?.removeEventListener('abort', onAbort);
      }
    },
    ping: async () => { await sql`SELECT 1`; },
    // With a timeout: after a server restart postgres.js may keep a dead connection that never
    // ends (its interrupted query stays attached), and close() would wait forever.
    close: async () => { await kysely.destroy(); if (reader) await reader.end({ timeout: 5 }); },
  };
}
