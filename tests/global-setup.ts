import postgres from 'postgres';
import { Redis } from 'ioredis';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './support/test-env.ts';

/** The suite talks to real Postgres and Redis: say clearly, once, when either is missing. */
export default async function setup(): Promise<void> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
  } catch (e) {
    throw new Error(`Tests need PostgreSQL at ${TEST_DATABASE_URL} (set TEST_DATABASE_URL, or run .ci/run which starts it): ${String(e)}`);
  } finally {
    await sql.end();
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    throw new Error(`Tests need Redis at ${TEST_REDIS_URL} (set TEST_REDIS_URL, or run .ci/run which starts it): ${String(e)}`);
  } finally {
    redis.disconnect();
  }
}
