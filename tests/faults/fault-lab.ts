import { serve, type ServerType } from '@hono/node-server';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import postgres from 'postgres';
import { DOMAIN_MIGRATIONS } from '../../sandbox/domains/migrations/domain.migrations.ts';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import type { QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { readConfig, type LabConfig } from '../../sandbox/store/lab-config.ts';
import { migrate } from '../../sandbox/store/migrate.ts';
import { dropPostgres, openDatabase, provisionPostgres, roleUrl } from '../../sandbox/store/topology.ts';
import { buildApp } from '../../server/app.ts';
import { CONTROL_MIGRATIONS } from '../../server/db/control.migrations.ts';
import type { ControlSchema } from '../../server/db/control.schema.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { auditTrailOf, type AuditVerifyReport } from '../../server/services/audit.service.ts';
import { keepJobsRecovered, listenForResults, type JobRecovery } from '../../server/services/job.service.ts';
import { createUser } from '../../server/services/user.service.ts';
import { signIn, type ApiClient } from '../support/api-client.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.ts';
import { killOnExit } from './private-services.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
const PASSWORD = 'fault-lab-analyst-pw-42';

export const S1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as unknown;

/**
 * Two outputs in one domain, over two tables: stage `out_h` (households by district) and stage
 * `out_p` (persons by district × sex). Stages run in stage-id order on a worker of concurrency 1,
 * so locking `person` lets `out_h` finish while `out_p` waits; locking `household` holds both.
 */
export const TWO_TABLES = {
  specVersion: 1,
  name: 'faults: households and persons by district',
  nodes: [
    { id: 'households', op: 'source@1', params: { dataset: 'registry.household' }, position: { x: 0, y: 0 } },
    { id: 'h_by_district', op: 'aggregate@1', inputs: { rows: 'households' }, params: { groupBy: ['district_code', 'household_type'], measures: [{ kind: 'count_persons' }], subtotals: 'margins' }, position: { x: 240, y: 0 } },
    { id: 'out_h', op: 'output@1', inputs: { table: 'h_by_district' }, params: { title: 'households', chart: 'bar' }, position: { x: 480, y: 0 } },
    { id: 'persons', op: 'source@1', params: { dataset: 'registry.person' }, position: { x: 0, y: 200 } },
    { id: 'p_by_district', op: 'aggregate@1', inputs: { rows: 'persons' }, params: { groupBy: ['district_code', 'sex'], measures: [{ kind: 'count_persons' }], subtotals: 'margins' }, position: { x: 240, y: 200 } },
    { id: 'out_p', op: 'output@1', inputs: { table: 'p_by_district' }, params: { title: 'persons', chart: 'bar' }, position: { x: 480, y: 200 } },
  ],
} as const;

export interface FaultLabOptions {
  /** Postgres (admin URL) of the control database; default the machine's shared test Postgres. */
  readonly controlAdminUrl?: string;
  /** Postgres (admin URL) of the domain databases; default the control database's. */
  readonly domainAdminUrl?: string;
  /** BullMQ on this Redis; without it the in-process queue (worker in this process only). */
  readonly redisUrl?: string;
  /** Persons generated into the registry (households: a third as many). Default 3000. */
  readonly persons?: number;
  /** Where the registry worker runs: in this process, or as the production command (`server/main.ts worker`) in a child. */
  readonly worker?: 'in-process' | 'child';
  /** In-process worker: statement timeout of stages. */
  readonly statementTimeoutMs?: number;
  /** Child worker: extra environment (e.g. LAB_STAGE_TIMEOUT_MS). */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /** Period of the coordinator's recovery sweep (default 60 s: only start and reconnects count in short tests). */
  readonly recoveryIntervalMs?: number;
}

export interface JobView { state: string; error?: { code?: string; en?: string; zh?: string } | null }
export interface ResultTable { stageId: string; domain: string; table: unknown }

/**
 * A lab for fault tests: a provisioned control database and registry (own prefix, on the given
 * Postgres servers), a registry generated with SQL, the coordinator (result listener and recovery
 * sweep) and the HTTP server in this process, the registry worker in this process or in a child
 * process, and a signed-in analyst. Everything a fault can break can be stopped and started again.
 */
export interface FaultLab {
  readonly prefix: string;
  readonly control: Database<ControlSchema>;
  /** The test's own handle on the registry (its owner role): locks, ledger checks. */
  readonly registry: Database;
  /** The coordinator's queue. */
  readonly queue: QueueDriver;
  readonly recovery: JobRecovery;
  readonly baseUrl: string;
  readonly api: ApiClient;
  /** Log lines of the coordinator and in-process worker, and the child worker's output. */
  readonly logs: string[];
  run(spec: unknown): Promise<string>;
  waitForJob(jobId: string, timeoutMs?: number): Promise<JobView>;
  result(jobId: string): Promise<ResultTable[]>;
  /** The job's events as recorded in the control database. */
  events(jobId: string): Promise<{ id: number; kind: string; data: unknown }[]>;
  /** Audit actions recorded about this job, in order. */
  auditActions(jobId: string): Promise<string[]>;
  /** Ledger releases recorded in the registry for this job + stage. */
  releases(jobId: string, stageId: string): Promise<number>;
  verifyAudit(): Promise<AuditVerifyReport>;
  /** Another session holds `table` (ACCESS EXCLUSIVE) until released: a stage reading it waits. */
  holdTable(table: 'person' | 'household'): Promise<{ release(): Promise<void> }>;
  /** Waits until a stage's query waits on a lock in the registry; returns its backend pid. */
  waitForBlockedStage(timeoutMs?: number): Promise<number>;
  /** Closes the HTTP server at once, cutting open connections (an SSE stream breaks mid-way). */
  killServer(): Promise<void>;
  /** A new server on the same port, with a control-database handle of its own. */
  startServer(): Promise<void>;
  /** Starts the registry worker (child mode: `env` instead of the lab's `workerEnv`). */
  startWorker(options?: { env?: Readonly<Record<string, string>> }): Promise<void>;
  stopWorker(): Promise<void>;
  /** The child worker's process id while it runs (child mode). */
  workerPid(): number | undefined;
  /** How the last child worker ended (child mode): exit code or signal. */
  lastWorkerExit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it gives a value (errors count as not yet). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The released tables without their stage metadata, to compare runs. */
export const tablesOf = (rs: readonly ResultTable[]) => rs.map((r) => ({ stageId: r.stageId, table: r.table }));

function labConfig(adminUrl: string, redisUrl: string, prefix: string, dataDir: string): LabConfig {
  return readConfig({ DATABASE_URL: adminUrl, REDIS_URL: redisUrl, LAB_DB_PREFIX: prefix, LAB_DATA_DIR: dataDir, PORT: '0' });
}

/** Persons and households spread over 3 districts × 3 streets × 2 communities × 2 grids. */
async function generateRegistry(db: Database, persons: number): Promise<void> {
  const households = Math.max(1, Math.floor(persons / 3));
  const geo = (i: string) => sql.raw(`
    ('44010' || (3 + ${i} % 3)) AS d,
    ('44010' || (3 + ${i} % 3) || '00' || (1 + (${i} / 3) % 3)) AS s,
    ('44010' || (3 + ${i} % 3) || '00' || (1 + (${i} / 3) % 3) || '00' || (1 + (${i} / 9) % 2)) AS c,
    ('44010' || (3 + ${i} % 3) || '00' || (1 + (${i} / 3) % 3) || '00' || (1 + (${i} / 9) % 2) || '00' || (1 + (${i} / 18) % 2)) AS g`);
  await sql`INSERT INTO household (household_id, household_type, address, district_code, street_code, community_code, grid_code, created_on)
    SELECT i, CASE WHEN i % 4 = 0 THEN 'floating' ELSE 'local' END, '地址', d, s, c, g, date '2015-01-01' + (i % 3000)
    FROM generate_series(1, ${households}::int) AS i, LATERAL (SELECT ${geo('i')}) AS geo`.execute(db.kysely);
  await sql`INSERT INTO person (person_id, id_number, name, sex, birth_date, household_id, household_type, native_region_code,
      district_code, street_code, community_code, grid_code, address, registered_on, status)
    SELECT i, '440104' || to_char(date '1940-01-01' + (i * 7919 % 29000), 'YYYYMMDD') || lpad((i % 1000)::text, 3, '0') || 'X',
      '测试', CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END, date '1940-01-01' + (i * 7919 % 29000), 1 + i % ${households}::int,
      CASE WHEN i % 5 = 0 THEN 'floating' ELSE 'local' END, '440104', d, s, c, g, '地址', date '2020-01-01',
      CASE WHEN i % 50 = 0 THEN 'deregistered' ELSE 'active' END
    FROM generate_series(1, ${persons}::int) AS i, LATERAL (SELECT ${geo('(i % 54)')}) AS geo`.execute(db.kysely);
  await sql`INSERT INTO lab_meta (key, value) VALUES ('as_of', '2026-06-30')`.execute(db.kysely);
  await sql`ANALYZE person`.execute(db.kysely);
  await sql`ANALYZE household`.execute(db.kysely);
}

export async function startFaultLab(opts: FaultLabOptions = {}): Promise<FaultLab> {
  const prefix = `f_${randomBytes(5).toString('hex')}`;
  const redisUrl = opts.redisUrl ?? TEST_REDIS_URL;
  const controlAdmin = opts.controlAdminUrl ?? TEST_DATABASE_URL;
  const domainAdmin = opts.domainAdminUrl ?? controlAdmin;
  const dirs = [mkdtempSync(join(tmpdir(), 'fault-lab-'))];
  const cfgControl = labConfig(controlAdmin, redisUrl, prefix, dirs[0] ?? '');
  let cfgDomain = cfgControl;
  if (domainAdmin !== controlAdmin) {
    const d = mkdtempSync(join(tmpdir(), 'fault-lab-'));
    dirs.push(d);
    cfgDomain = labConfig(domainAdmin, redisUrl, prefix, d);
  }
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) { try { await c(); } catch { /* keep cleaning */ } }
    cleanups.length = 0;
  };
  try {
    await provisionPostgres(cfgControl);
    cleanups.push(() => dropPostgres(cfgControl));
    if (cfgDomain !== cfgControl) {
      await provisionPostgres(cfgDomain);
      cleanups.push(() => dropPostgres(cfgDomain));
    }
    cleanups.push(async () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
    const control = await openDatabase<ControlSchema>(cfgControl, 'control', { max: 4 });
    cleanups.push(() => control.close());
    await migrate(control, CONTROL_MIGRATIONS);
    const registry = await openDatabase(cfgDomain, 'registry', { max: 3 });
    cleanups.push(() => registry.close());
    await migrate(registry, DOMAIN_MIGRATIONS.registry);
    await generateRegistry(registry, opts.persons ?? 3000);

    const logs: string[] = [];
    const logger = createLogger('info', { write: (line: string) => { logs.push(line); } });
    const bull = opts.redisUrl !== undefined || opts.worker === 'child';
    const queue: QueueDriver = bull ? new BullQueue(redisUrl, prefix) : new InlineQueue();
    cleanups.push(async () => {
      if (queue instanceof BullQueue) await queue.obliterateAll().catch(() => undefined);
      await queue.close();
    });
    await listenForResults(control, queue, logger);
    const recovery = await keepJobsRecovered(control, queue, logger, { intervalMs: opts.recoveryIntervalMs ?? 60_000 });
    cleanups.push(() => recovery.stop());

    // The registry worker.
    let inProcess: { worker: DomainWorker; queue: QueueDriver; db: Database } | undefined;
    let child: ChildProcess | undefined;
    let lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const startWorker = async (o: { env?: Readonly<Record<string, string>> } = {}) => {
      if (opts.worker === 'child') {
        const c = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--domain', 'registry'], {
          cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: process.env['PATH'], HOME: process.env['HOME'], LAB_DOMAIN_DATABASE_URL: roleUrl(cfgDomain, 'registry'),
            REDIS_URL: redisUrl, LAB_DB_PREFIX: prefix, LAB_LOG_LEVEL: 'info', ...(o.env ?? opts.workerEnv ?? {}),
          },
        });
        child = c;
        c.once('exit', (code, signal) => { lastExit = { code, signal }; });
        if (c.pid !== undefined) { const undo = killOnExit(c.pid); c.once('exit', undo); }
        c.stdout?.on('data', (b: Buffer) => { logs.push(...b.toString('utf8').split('\n').filter(Boolean)); });
        c.stderr?.on('data', (b: Buffer) => { logs.push(...b.toString('utf8').split('\n').filter(Boolean).map((l) => `[worker stderr] ${l}`)); });
        const started = Date.now();
        // Ready when its first heartbeat (sent after it migrated and pinged its database) is in Redis.
        for (;;) {
          const beats = await queue.heartbeats('registry');
          if (beats.some((b) => b.workerId.includes(`-${c.pid}-`))) break;
          if (c.exitCode !== null) throw new Error(`the registry worker exited with ${c.exitCode}:\n${logs.slice(-20).join('\n')}`);
          if (Date.now() - started > 60_000) throw new Error(`the registry worker did not start:\n${logs.slice(-20).join('\n')}`);
          await sleep(100);
        }
        return;
      }
      const db = await openDatabase(cfgDomain, 'registry', { max: 3 });
      const wq = queue instanceof BullQueue ? new BullQueue(redisUrl, prefix) : queue;
      const worker = await startDomainWorker({ domain: 'registry', db, queue: wq, logger, ...(opts.statementTimeoutMs !== undefined ? { statementTimeoutMs: opts.statementTimeoutMs } : {}) });
      inProcess = { worker, queue: wq, db };
    };
    const stopWorker = async () => {
      if (child) {
        const c = child;
        child = undefined;
        if (c.exitCode === null && c.signalCode === null) {
          await new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => { if (c.exitCode === null) c.kill('SIGKILL'); }, 10_000).unref();
          });
        }
      }
      if (inProcess) {
        const w = inProcess;
        inProcess = undefined;
        await w.worker.stop();
        if (w.queue !== queue) await w.queue.close();
        await w.db.close();
      }
    };
    await startWorker();
    cleanups.push(stopWorker);

    // The HTTP server (and, after a restart, its own control handle, as a new process would have).
    let server: ServerType | undefined;
    let port = 0;
    let serverControl: Database<ControlSchema> | undefined;
    const listen = async (db: Database<ControlSchema>) => {
      const app = buildApp({ control: db, logger, queue, health: () => Promise.resolve({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
      server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s)); });
      port = (server.address() as AddressInfo).port;
    };
    const killServer = async () => {
      const s = server as Server | undefined;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
      if (serverControl) { await serverControl.close(); serverControl = undefined; }
    };
    await listen(control);
    cleanups.push(killServer);
    const baseUrl = `http://127.0.0.1:${port}`;

    await createUser(control, { username: 'ana', displayName: 'Ana', role: 'analyst', password: PASSWORD });
    const api = await signIn(baseUrl, 'ana', PASSWORD);

    const lab: FaultLab = {
      prefix, control, registry, queue, recovery, baseUrl, api, logs,
      async run(spec) {
        const saved = await api.post('/api/pipelines', spec);
        if (saved.status !== 201) throw new Error(`save: ${saved.status} ${await saved.text()}`);
        const { id } = await saved.json() as { id: string };
        const started = await api.post(`/api/pipelines/${id}/runs`);
        if (started.status !== 202) throw new Error(`run: ${started.status} ${await started.text()}`);
        return (await started.json() as { jobId: string }).jobId;
      },
      async waitForJob(jobId, timeoutMs = 60_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const res = await api.get(`/api/jobs/${jobId}`);
          const job = await res.json() as JobView;
          if (res.status === 200 && job.state !== 'queued' && job.state !== 'running') return job;
          if (Date.now() > until) throw new Error(`job ${jobId} is still ${job.state}:\n${logs.slice(-30).join('\n')}`);
          await sleep(100);
        }
      },
      async result(jobId) {
        const res = await api.get(`/api/jobs/${jobId}/result`);
        if (res.status !== 200) throw new Error(`result: ${res.status} ${await res.text()}`);
        return (await res.json() as { tables: ResultTable[] }).tables;
      },
      events: (jobId) => control.kysely.selectFrom('job_event').select(['id', 'kind', 'data']).where('job_id', '=', jobId).orderBy('id').execute(),
      async auditActions(jobId) {
        const rows = await control.kysely.selectFrom('audit_entry').select('action').where('resource_type', '=', 'job').where('resource_id', '=', jobId).orderBy('seq').execute();
        return rows.map((r) => r.action);
      },
      async releases(jobId, stageId) {
        const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM lab_release WHERE release_id = ${`${jobId}:${stageId}`}`.execute(registry.kysely);
        return r.rows[0]?.n ?? -1;
      },
      verifyAudit: () => auditTrailOf(control).verify(),
      async holdTable(table) {
        // A connection of its own, pooled (not a reserved Kysely transaction): its session may die
        // with its server (a restart) while it waits here, and COMMIT then goes to a new session.
        const holder = postgres(roleUrl(cfgDomain, 'registry'), { max: 1, onnotice: () => {} });
        await holder`BEGIN`;
        await holder.unsafe(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
        return {
          async release() {
            await holder`COMMIT`.catch(() => undefined);
            await holder.end({ timeout: 1 });
          },
        };
      },
      async waitForBlockedStage(timeoutMs = 30_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const r = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE 'WITH%'`.execute(registry.kysely);
          const pid = r.rows[0]?.pid;
          if (pid !== undefined) return pid;
          if (Date.now() > until) throw new Error(`no stage waits on a lock:\n${logs.slice(-20).join('\n')}`);
          await sleep(50);
        }
      },
      killServer,
      async startServer() {
        if (server) throw new Error('the server is running');
        serverControl = await openDatabase<ControlSchema>(cfgControl, 'control', { max: 4 });
        await listen(serverControl);
      },
      startWorker,
      stopWorker,
      workerPid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
      lastWorkerExit: () => lastExit,
      close: cleanup,
    };
    return lab;
  } catch (e) {
    await cleanup();
    throw e;
  }
}
