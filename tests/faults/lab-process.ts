import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { readConfig, type LabConfig } from '../../sandbox/store/lab-config.ts';
import { dropPostgres } from '../../sandbox/store/topology.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.ts';
import { freePort, killOnExit } from './private-services.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));

export interface LabProcessOptions {
  /** Persons seeded on first start (LAB_SEED_PERSONS, at least 10 000). */
  readonly persons?: number;
  /** Extra environment of the server process (passed on to its workers where the launcher does). */
  readonly env?: Readonly<Record<string, string>>;
  /** Keep the server's log lines (default true; a long load run may turn it off). */
  readonly keepLogs?: boolean;
  /** Also append the server's output (and its workers') to this file. */
  readonly logFile?: string;
  /** Extra Node.js flags of the server process (e.g. V8 tracing while chasing a crash). */
  readonly nodeArgs?: readonly string[];
}

/**
 * The lab as production runs it: `server/main.ts start` in Postgres + Redis mode as a child
 * process (its own database/role prefix on the machine's Postgres, its own key prefix on Redis,
 * its own data folder), which provisions, seeds on first start and supervises one worker process
 * per domain. It can be signalled, stopped and started again on the same port, prefix and data
 * folder (a restart); `drop()` removes its databases, roles, Redis keys and folder.
 */
export interface LabProcess {
  readonly baseUrl: string;
  readonly prefix: string;
  readonly password: string;
  readonly cfg: LabConfig;
  readonly logs: string[];
  /** The server's process id while it runs. */
  pid(): number | undefined;
  /** Resolves when the current server process ends. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts the server (again) and waits until `/api/ready` answers 200 (every domain has a worker). */
  start(): Promise<void>;
  /** A superuser connection to one of this lab's databases (locks, ledger checks); closed by `drop()`. */
  sql(db: 'control' | 'registry'): postgres.Sql;
  drop(): Promise<void>;
}

export async function createLabProcess(opts: LabProcessOptions = {}): Promise<LabProcess> {
  const prefix = `p_${randomBytes(5).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'lab-process-'));
  const port = await freePort();
  const password = `lab-process-${randomBytes(6).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'], HOME: process.env['HOME'],
    DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LAB_DB_PREFIX: prefix, LAB_DATA_DIR: dataDir,
    PORT: String(port), LAB_SEED_PERSONS: String(opts.persons ?? 10_000), LAB_DEMO_PASSWORD: password, LAB_LOG_LEVEL: 'info',
    ...(opts.env ?? {}),
  };
  const cfg = readConfig({ DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LAB_DB_PREFIX: prefix, LAB_DATA_DIR: dataDir, PORT: String(port) });
  const baseUrl = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const keep = opts.keepLogs ?? true;
  let child: ChildProcess | undefined;
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  const conns = new Map<string, postgres.Sql>();

  const lab: LabProcess = {
    baseUrl, prefix, password, cfg, logs,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    exited: () => exit,
    async start() {
      if (lab.pid() !== undefined) throw new Error('the lab is running');
      // `detached`: its own process group, so a test can end the server and its workers together.
      const c = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', MAIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      child = c;
      exit = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
      if (c.pid !== undefined) { const undo = killOnExit(-c.pid); c.once('exit', undo); }
      const collect = (b: Buffer) => {
        if (keep) logs.push(...b.toString('utf8').split('\n').filter(Boolean));
        if (opts.logFile) appendFileSync(opts.logFile, b);
      };
      c.stdout?.on('data', collect);
      c.stderr?.on('data', collect);
      const until = Date.now() + 300_000;
      for (;;) {
        if (c.exitCode !== null) throw new Error(`the lab exited with ${c.exitCode}:\n${logs.slice(-30).join('\n')}`);
        const ok = await fetch(`${baseUrl}/api/ready`).then((r) => r.status === 200, () => false);
        if (ok) return;
        if (Date.now() > until) throw new Error(`the lab did not become ready:\n${logs.slice(-30).join('\n')}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    sql(db) {
      let s = conns.get(db);
      if (!s) {
        const u = new URL(TEST_DATABASE_URL);
        u.pathname = `/${prefix}_${db}`;
        s = postgres(u.toString(), { max: 2, onnotice: () => {} });
        conns.set(db, s);
      }
      return s;
    },
    async drop() {
      const c = child;
      // The whole process group: workers outlive a server that died abnormally.
      if (c?.pid !== undefined) {
        try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
        await exit;
      }
      for (const s of conns.values()) await s.end({ timeout: 1 }).catch(() => undefined);
      const q = new BullQueue(TEST_REDIS_URL, prefix);
      await q.obliterateAll().catch(() => undefined);
      await q.close();
      await dropPostgres(cfg).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return lab;
}
