import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../sandbox/store/database.ts';
import { openPostgres } from '../../sandbox/store/postgres.database.ts';
import { startPrivatePostgres, type PrivatePostgres } from './private-services.ts';

/**
 * The store's Postgres handle while its server restarts (a private PostgreSQL; fast shutdown ends
 * every session). postgres.js 3.4.9 crashed the process from a timer when a reserved connection
 * whose session had died was written to again (porsager/postgres #1208): Kysely's query or
 * transaction in flight during a restart took the whole process down on the next query. The
 * statements in flight must fail, the process must live, and the next statements must work.
 */
describe('a Postgres handle across a server restart', () => {
  let pg: PrivatePostgres | undefined;
  let db: Database | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => { uncaught.push(e); };

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    pg = await startPrivatePostgres();
    db = await openPostgres('restart', pg.url, { max: 4 });
    await db.exec('CREATE TABLE t (x int)');
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await db?.close(); // bounded: a connection that died mid-statement is dropped after 5 s
    await pg?.close();
  }, 30_000);

  it('statements in flight fail, the process lives, and pooled, transactional and read-only statements work after', async () => {
    if (!pg || !db) throw new Error('set-up failed');
    const handle = db;
    // A statement that never settles (its connection lost inside the driver) counts as failed after 10 s.
    const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => { setTimeout(() => reject(Object.assign(new Error('never settled'), { code: 'HUNG' })), 10_000).unref(); })]);
    const settle = (p: Promise<unknown>) => within(p).then(() => 'ok', (e: unknown) => `failed: ${(e as { code?: string }).code ?? String(e)}`);
    const inFlight = [
      settle(sql`SELECT pg_sleep(30)`.execute(handle.kysely)),
      settle(handle.kysely.transaction().execute(async (trx) => {
        await sql`INSERT INTO t VALUES (1)`.execute(trx);
        await sql`SELECT pg_sleep(30)`.execute(trx);
      })),
      settle(handle.readOnlyQuery('SELECT pg_sleep(30)', [], { timeoutMs: 60_000 })),
    ];
    // Every statement above is running in the server when it goes down.
    for (let i = 0; i < 100; i++) {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'`.execute(handle.kysely);
      if (r.rows[0]?.n === 3) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    await pg.restart();
    const outcomes = await Promise.all(inFlight);
    for (const o of outcomes) expect(o).toMatch(/^failed: (?!HUNG)/);
    expect(uncaught).toEqual([]);

    // A few rounds of each kind: the first may still meet a connection whose end was not read yet.
    const ok = { pooled: 0, transactions: 0, readOnly: 0 };
    for (let i = 0; i < 5; i++) {
      await within(sql`SELECT 1`.execute(handle.kysely)).then(() => { ok.pooled++; }, () => undefined);
      await within(handle.kysely.transaction().execute(async (trx) => { await sql`INSERT INTO t VALUES (2)`.execute(trx); })).then(() => { ok.transactions++; }, () => undefined);
      await within(handle.readOnlyQuery('SELECT 1 AS one', [], { timeoutMs: 1000 })).then(() => { ok.readOnly++; }, () => undefined);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(ok.pooled).toBeGreaterThanOrEqual(4);
    expect(ok.transactions).toBeGreaterThanOrEqual(4);
    expect(ok.readOnly).toBeGreaterThanOrEqual(4);
    // The transaction cut short left nothing; the later ones committed.
    const rows = await sql<{ x: number }>`SELECT x FROM t ORDER BY x`.execute(handle.kysely);
    expect(rows.rows.map((r) => r.x)).toEqual(Array<number>(ok.transactions).fill(2));
    await new Promise((res) => setTimeout(res, 200)); // a crash comes from a timer
    expect(uncaught).toEqual([]);
  }, 90_000);
});
