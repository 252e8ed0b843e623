import { serve, type ServerType } from '@hono/node-server';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import type { QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import { stageTimeoutFromEnv, startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { LabConfig } from '../../sandbox/store/lab-config.ts';
import { redactUrl } from '../../sandbox/store/lab-config.ts';
import { roleUrl } from '../../sandbox/store/topology.ts';
import { buildApp } from '../app.ts';
import { createLabMetrics } from '../metrics/lab-metrics.ts';
import { auditCheckpointMinutes, auditKeyPath, loadOrCreateAuditKey } from '../services/audit-key.ts';
import { createAuditTrail, startAuditCheckpoints } from '../services/audit.service.ts';
import { keepJobsRecovered, listenForResults } from '../services/job.service.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { DEMO_USERS, demoPassword, ensureDemoUsers } from './demo-users.ts';
import { healthProbe } from './health.ts';
import { openControl, openControlAt, openDomains, seedLab } from './lab-services.ts';
import { readinessProbe } from './readiness.ts';
import { DEFAULT_SERVER_DRAIN_MS, DEFAULT_WORKER_DRAIN_MS, drainMsFromEnv, drainServer } from './shutdown.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface RunningLab {
  readonly url: string;
  readonly port: number;
  readonly control: Database<ControlSchema>;
  readonly queue: QueueDriver;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Persons of the city seeded on first start. */
  readonly seedPersons: number;
  readonly seedName: string;
  /** Print the banner to stdout (the CLI does; tests do not). */
  readonly banner: boolean;
  /**
   * Coordinator only (`npm run lab -- coordinator`, docs/deploy.md): the control database at this
   * URL (its own role, no admin URL), nothing provisioned or seeded, no domain workers started —
   * each department runs its own next to its own database. Postgres mode (BullMQ) only.
   */
  readonly controlUrl?: string;
}

/**
 * Boots the whole lab. Embedded mode: everything in this process (PGlite, inline queue, in-process
 * domain workers). Postgres mode: provisions with the admin URL, seeds through a child process,
 * runs each domain worker as its own child process that receives only its own domain's
 * credentials, and the server itself keeps only the control database's.
 */
export async function startLab(cfg: LabConfig, logger: Logger, opts: StartOptions): Promise<RunningLab> {
  const modeText = cfg.mode === 'embedded'
    ? `embedded (PGlite in ${cfg.dataDir}/pglite, in-process queue)`
    : opts.controlUrl
      ? `coordinator only (control ${redactUrl(opts.controlUrl)}, BullMQ on ${redactUrl(cfg.redisUrl ?? '')}; domain workers run elsewhere)`
      : `postgres (${redactUrl(cfg.adminUrl ?? '')}, BullMQ on ${redactUrl(cfg.redisUrl ?? '')})`;
  logger.info({ mode: cfg.mode }, `starting Data Lab in ${cfg.mode} mode`);
  if (opts.banner) process.stdout.write(`\nData Lab 数据实验室 — mode: ${modeText}\n`);

  // Postgres mode: make sure the queue answers before anything is provisioned or seeded.
  let queue: QueueDriver;
  if (cfg.mode === 'postgres') {
    if (!cfg.redisUrl) throw new Error('postgres mode needs REDIS_URL');
    queue = new BullQueue(cfg.redisUrl, cfg.dbPrefix);
    try {
      await queue.ping();
    } catch (e) {
      await queue.close();
      throw e;
    }
  } else {
    queue = new InlineQueue();
  }
  const control = opts.controlUrl ? await openControlAt(opts.controlUrl, logger) : await openControl(cfg, logger);
  const stops: (() => Promise<void>)[] = [];
  // The audit trail's signing key stays with the coordinator (a file, never the database).
  const keyFile = auditKeyPath(cfg.dataDir);
  const { key, created } = loadOrCreateAuditKey(keyFile);
  if (created) logger.info({ keyFile, keyId: key.keyId }, 'audit signing key created');
  if (!key.sign) logger.warn({ keyFile }, 'the audit key file holds only a public key: no checkpoints will be signed');
  const audit = createAuditTrail(control, { key });
  const checkpoints = startAuditCheckpoints(audit, { everyMs: auditCheckpointMinutes() * 60_000, logger });

  const snapshot = await control.kysely.selectFrom('city_snapshot').selectAll().executeTakeFirst();
  if (cfg.mode === 'embedded') {
    const domains = await openDomains(cfg);
    const workers: DomainWorker[] = [];
    const statementTimeoutMs = stageTimeoutFromEnv();
    for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue, logger, statementTimeoutMs }));
    if (!snapshot) {
      if (opts.banner) process.stdout.write(`Seeding a synthetic city of ${opts.seedPersons} persons (first start)…\n`);
      await seedLab(control, domains, { persons: opts.seedPersons, seed: opts.seedName }, logger);
    }
    stops.push(async () => {
      for (const w of workers) await w.stop();
      for (const d of DOMAIN_IDS) await domains[d].close();
    });
  } else if (opts.controlUrl) {
    if (!snapshot) logger.warn('no city snapshot in the control database: seed with `npm run lab -- seed` where the admin URL is');
  } else {
    if (!snapshot) {
      if (opts.banner) process.stdout.write(`Seeding a synthetic city of ${opts.seedPersons} persons (first start)…\n`);
      const domains = await openDomains(cfg);
      try {
        await seedLab(control, domains, { persons: opts.seedPersons, seed: opts.seedName }, logger);
      } finally {
        for (const d of DOMAIN_IDS) await domains[d].close();
      }
    }
    const children = DOMAIN_IDS.map((d) => superviseWorker(cfg, d, logger));
    stops.push(async () => { await Promise.all(children.map((c) => c.stop())); });
  }

  const { password, generated } = demoPassword(cfg.dataDir, cfg.demoPassword);
  const withDemo = cfg.mode === 'embedded' || cfg.demoPassword !== undefined;
  if (withDemo) await ensureDemoUsers(control, password);

  await listenForResults(control, queue, logger);
  // Work the control database still owes (queued or running stages) goes back to the queue: now,
  // whenever Redis comes back after a loss, and every minute.
  const recovery = await keepJobsRecovered(control, queue, logger);
  // Prometheus metrics (GET /api/metrics): stage answers are observed as they reach the coordinator.
  const metrics = createLabMetrics({ control, queue });
  await metrics.observeResults(queue);
  const drainMs = drainMsFromEnv('LAB_SHUTDOWN_DRAIN_MS', DEFAULT_SERVER_DRAIN_MS);
  const shutdown = new AbortController();
  const metricsToken = process.env['LAB_METRICS_TOKEN']?.trim();
  const app = buildApp({
    control, logger, queue, metrics,
    health: healthProbe(cfg.mode, control, queue),
    ready: readinessProbe(control, queue, { shutdown: shutdown.signal }),
    shutdown: shutdown.signal,
    config: { secureCookies: process.env['LAB_SECURE_COOKIES'] === '1', ...(metricsToken ? { metricsToken } : {}) },
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: cfg.port, hostname: process.env['LAB_HOST'] ?? '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : cfg.port;
  const url = `http://localhost:${port}`;
  logger.info({ listen: url }, 'listening');

  if (opts.banner) {
    const city = await control.kysely.selectFrom('city_snapshot').selectAll().executeTakeFirst();
    const lines = [
      city ? `City: ${city.persons} persons, seed "${city.seed}", snapshot ${city.as_of}` : 'City: not seeded (run `npm run lab -- seed`)',
      `Open ${url}   API docs: ${url}/api/docs   health: ${url}/api/health`,
    ];
    if (withDemo) {
      lines.push(`Demo logins — password: ${password}${generated ? `  (generated; kept in ${cfg.dataDir}/demo-password, or set LAB_DEMO_PASSWORD)` : ' (LAB_DEMO_PASSWORD)'}`);
      for (const u of DEMO_USERS) lines.push(`  ${u.username.padEnd(18)} ${u.what}`);
    }
    process.stdout.write(lines.join('\n') + '\n\n');
  }

  let stopped = false;
  return {
    url, port, control, queue,
    async stop() {
      if (stopped) return;
      stopped = true;
      logger.info({ drainMs }, 'shutting down: draining the server, then workers and databases');
      // Not ready from now on; new requests on kept-alive connections get 503 LAB-E171; SSE streams
      // end cleanly; requests in flight finish (cut after drainMs).
      shutdown.abort();
      const { cut } = await drainServer(server, drainMs);
      logger.info({ cut }, 'server drained');
      for (const s of stops) await s();
      await recovery.stop();
      await checkpoints.stop(); // a last signed checkpoint over everything recorded
      await queue.close();
      await control.close();
    },
  };
}

/**
 * Runs one domain worker as a child process and restarts it if it dies. The child's environment
 * carries only its own domain's database URL — not the admin URL, not another domain's.
 */
function superviseWorker(cfg: LabConfig, domain: DomainId, logger: Logger): { stop(): Promise<void> } {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  const launch = () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      LAB_DOMAIN_DATABASE_URL: roleUrl(cfg, domain),
      REDIS_URL: cfg.redisUrl,
      LAB_DB_PREFIX: cfg.dbPrefix,
      LAB_LOG_LEVEL: cfg.logLevel,
      ...(process.env['LAB_WORKER_DRAIN_MS'] ? { LAB_WORKER_DRAIN_MS: process.env['LAB_WORKER_DRAIN_MS'] } : {}),
      ...(process.env['LAB_STAGE_TIMEOUT_MS'] ? { LAB_STAGE_TIMEOUT_MS: process.env['LAB_STAGE_TIMEOUT_MS'] } : {}),
    };
    child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--domain', domain], { env, cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      restarts++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts, 6));
      logger.warn({ domain, code, signal, delay }, 'domain worker exited; restarting');
      setTimeout(() => { if (!stopping) launch(); }, delay).unref();
    });
  };
  launch();
  return {
    async stop() {
      stopping = true;
      const c = child;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
        // The worker drains its running stage for LAB_WORKER_DRAIN_MS, then hands it back.
        setTimeout(() => c.kill('SIGKILL'), drainMsFromEnv('LAB_WORKER_DRAIN_MS', DEFAULT_WORKER_DRAIN_MS) + 10_000).unref();
      });
    },
  };
}
