import {
  CompiledQuery, PostgresAdapter, PostgresDriver, PostgresIntrospector, PostgresQueryCompiler,
  type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryResult,
} from 'kysely';
import type postgres from 'postgres';

/**
 * Kysely over postgres.js, written so that a Postgres restart (or a backend that dies) cannot take
 * the process down.
 *
 * Kysely holds one reserved postgres.js connection per query or transaction. postgres.js 3.4.9
 * moves a connection whose socket closed to its `closed` queue, but `release()` of a reservation
 * puts it back into `open` with no socket, and any later write on it throws from a timer, outside
 * every promise (porsager/postgres #1208, #1154): an uncaught exception. `kysely-postgres-js` calls
 * `release()` after every query, and writes ROLLBACK on the dead connection after a failed
 * statement, so a restart of the database killed every process that had a query in flight.
 *
 * Here a reservation that saw a connection-level error is marked dead: nothing more is written on
 * it (ROLLBACK is skipped: the server rolled the transaction back when the session ended) and it is
 * never released — postgres.js already holds it in its `closed` queue and reconnects it on demand.
 * The query's error reaches the caller as usual. Known limit: a reservation whose socket closes
 * while it runs no statement and the caller then awaits something other than the database before
 * its next statement cannot be told apart here; every transaction in this code base goes from
 * statement to statement without such a wait.
 */
export class PostgresJsDialect implements Dialect {
  constructor(private readonly sql: postgres.Sql) {}
  createAdapter() { return new PostgresAdapter(); }
  createDriver(): Driver { return new PostgresJsDriver(this.sql); }
  createIntrospector(db: Kysely<unknown>) { return new PostgresIntrospector(db); }
  createQueryCompiler() { return new PostgresQueryCompiler(); }
}

/** Errors after which the session is gone (postgres.js connection errors, SQLSTATE class 08, 57P0x). */
export function isConnectionLost(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const code = 'code' in e ? String((e as { code: unknown }).code) : '';
  return /^CONNECTION_(CLOSED|DESTROYED|ENDED)$/.test(code) || /^08/.test(code) || /^57P0[123]$/.test(code)
    || /^(ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|CONNECT_TIMEOUT)$/.test(code);
}

class PostgresJsConnection implements DatabaseConnection {
  dead = false;
  constructor(readonly reserved: postgres.ReservedSql) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.dead) throw Object.assign(new Error('the database connection was lost'), { code: 'CONNECTION_CLOSED' });
    try {
      const result = await this.reserved.unsafe(compiled.sql, compiled.parameters as postgres.ParameterOrJSON<never>[]);
      const { command, count } = result;
      return {
        numAffectedRows: command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE' ? BigInt(count) : undefined,
        rows: Array.from(result.values()) as R[],
      };
    } catch (e) {
      if (isConnectionLost(e)) this.dead = true;
      throw e;
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    if (this.dead) throw Object.assign(new Error('the database connection was lost'), { code: 'CONNECTION_CLOSED' });
    try {
      const cursor = this.reserved.unsafe(compiled.sql, compiled.parameters as postgres.ParameterOrJSON<never>[]).cursor(chunkSize);
      for await (const rows of cursor) yield { rows: rows as unknown as R[] };
    } catch (e) {
      if (isConnectionLost(e)) this.dead = true;
      throw e;
    }
  }
}

class PostgresJsDriver extends PostgresDriver {
  constructor(private readonly sql: postgres.Sql) {
    super({ pool: undefined as never });
  }

  override async init(): Promise<void> { /* the postgres.js instance is handed over ready */ }

  override async acquireConnection(): Promise<DatabaseConnection> {
    return new PostgresJsConnection(await this.sql.reserve());
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // The session that held the transaction is gone, and with it the transaction.
    if (connection instanceof PostgresJsConnection && connection.dead) return;
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  override async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (!(connection instanceof PostgresJsConnection)) return;
    if (connection.dead) return; // postgres.js keeps it among its closed connections
    connection.reserved.release();
  }

  override async destroy(): Promise<void> {
    // Waits at most 5 s for statements under way: a connection that died mid-statement never ends.
    await this.sql.end({ timeout: 5 });
  }
}
