import type { Kysely } from 'kysely';

/**
 * One open database, whichever engine runs it (PGlite in embedded mode, Postgres through
 * postgres.js otherwise). Everything the lab does to a database goes through this handle.
 */
export interface Database<Schema = unknown> {
  /** Logical name: `control` or a domain id. */
  readonly name: string;
  readonly engine: 'pglite' | 'postgres';
  readonly kysely: Kysely<Schema>;
  /** Runs SQL text with no parameters (DDL, several statements allowed). Never pass user text. */
  exec(sqlText: string): Promise<void>;
  /**
   * Streams rows into a table with COPY … FROM STDIN (text format: tab-separated,
   * `\N` for NULL, one row per line). Chunks are whole lines, as text or as UTF-8 bytes
   * (the synthetic-city loader hands over bytes encoded by its generator threads).
   * Returns the rows written.
   */
  copyIn(table: string, columns: readonly string[], chunks: AsyncIterable<string | Uint8Array>): Promise<number>;
  /**
   * One parameterised SELECT in a read-only transaction with a statement timeout, cancellable by
   * `signal` (Postgres: the backend is told to stop; PGlite runs in-process and finishes). The
   * domain workers run their stages through this. On Postgres it uses a connection of its own that
   * is never reserved: a backend that dies mid-query rejects the query instead of taking the
   * process down (postgres.js issue #1208, reserved connections).
   */
  readOnlyQuery<R>(sqlText: string, parameters: readonly unknown[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<R[]>;
  /** Cheap round trip for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Quotes an SQL identifier. The one place identifiers are turned into SQL text. */
export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`refusing identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Rows (newline characters) in a COPY chunk. */
export function countLines(chunk: string | Uint8Array): number {
  let n = 0;
  if (typeof chunk === 'string') {
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) n++;
    return n;
  }
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}
