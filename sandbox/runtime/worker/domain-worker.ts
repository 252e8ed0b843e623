import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { DomainId } from '../../domains/domain-ids.ts';
import { DOMAIN_MIGRATIONS } from '../../domains/migrations/domain.migrations.ts';
import type { Database } from '../../store/database.ts';
import { migrate } from '../../store/migrate.ts';
import type { QueueDriver } from '../queue/queue-driver.ts';

export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_TTL_MS = 15_000;

export interface DomainWorkerOptions {
  readonly domain: DomainId;
  /** This domain's own database, opened with this domain's own credentials. Nothing else. */
  readonly db: Database;
  readonly queue: QueueDriver;
  readonly logger: Logger;
}

export interface DomainWorker {
  readonly workerId: string;
  stop(): Promise<void>;
}

/**
 * A domain worker: the only holder of its domain's database credentials. It migrates its own
 * database, then reports its health through the queue's heartbeat channel so the coordinator can
 * tell whether the domain is reachable without ever holding a connection to it (I1, I2).
 * Stage execution is added by the sandbox runtime on top of this loop.
 */
export async function startDomainWorker(opts: DomainWorkerOptions): Promise<DomainWorker> {
  const { domain, db, queue, logger } = opts;
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const log = logger.child({ domain, workerId });
  const applied = await migrate(db, DOMAIN_MIGRATIONS[domain]);
  if (applied.length) log.info({ applied }, 'domain database migrated');

  const beat = async () => {
    let databaseOk = true;
    let error: string | undefined;
    try {
      await db.ping();
    } catch (e) {
      databaseOk = false;
      error = e instanceof Error ? e.message : String(e);
    }
    try {
      await queue.reportHeartbeat({ domain, workerId, databaseOk, at: new Date().toISOString(), ...(error ? { error } : {}) }, HEARTBEAT_TTL_MS);
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'heartbeat not delivered');
    }
  };
  await beat();
  const timer = setInterval(() => { void beat(); }, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  log.info('domain worker ready');
  return {
    workerId,
    async stop() {
      clearInterval(timer);
      log.info('domain worker stopped');
    },
  };
}
