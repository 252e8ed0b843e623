import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';

/**
 * Private PostgreSQL and Redis instances for fault tests that restart a service. The machine's
 * shared Postgres (5432) and Redis (6379) are used by others at the same time and are never
 * stopped: a test that restarts a service starts its own on a free loopback port, in a temporary
 * folder, and removes it afterwards — also when the test fails (`close()` in afterAll, a
 * synchronous stop on process exit, and a sweep of instances left by a process that was killed).
 */

const TAG = 'lab-fault-svc-';
const OWNER_FILE = 'owner.pid';

/** A free TCP port on the loopback interface (bound, read, released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Debian PostgreSQL binaries (the newest major installed). */
function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const m of majors) if (existsSync(join(root, m, 'bin', 'pg_ctl'))) return join(root, m, 'bin');
  throw new Error('no PostgreSQL binaries under /usr/lib/postgresql/*/bin (Debian postgresql package)');
}

/**
 * initdb refuses to run as root: then the server runs as the `postgres` OS user (runuser), and the
 * temporary folder is handed to that user.
 */
function asPgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('running as root and there is no postgres OS user to run a private PostgreSQL');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs a PostgreSQL tool without blocking this process's event loop (clients keep running meanwhile). */
async function runPg(bin: string, args: readonly string[], user: { uid: number } | undefined): Promise<string> {
  const cmd = user ? 'runuser' : bin;
  const full = user ? ['-u', 'postgres', '--', bin, ...args] : [...args];
  const { stdout } = await promisify(execFile)(cmd, full, { encoding: 'utf8', timeout: 60_000 });
  return stdout;
}

/** Stops and removes instances whose owning test process no longer runs (it was killed). */
function sweepOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(TAG)) continue;
    const dir = join(tmpdir(), name);
    let owner = NaN;
    try { owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8')); } catch { /* half made */ }
    if (Number.isInteger(owner) && alive(owner)) continue;
    stopInstanceSync(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops whatever runs from this folder, by the pid it recorded (never by name). */
function stopInstanceSync(dir: string): void {
  const pgData = join(dir, 'data');
  if (existsSync(join(pgData, 'postmaster.pid'))) {
    try {
      const pid = Number(readFileSync(join(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) process.kill(pid, 'SIGQUIT'); // immediate shutdown
    } catch { /* gone */ }
  }
  const redisPid = join(dir, 'redis.pid');
  if (existsSync(redisPid)) {
    const pid = Number(readFileSync(redisPid, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  }
}

const exitHooks = new Set<() => void>();
let exitHookInstalled = false;
function onExit(fn: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => { for (const f of exitHooks) { try { f(); } catch { /* best effort */ } } });
  }
  exitHooks.add(fn);
  return () => { exitHooks.delete(fn); };
}

/** Kills a child process of this test (by its pid) if this process exits first. Returns the undo. */
export function killOnExit(pid: number): () => void {
  return onExit(() => { if (alive(pid)) process.kill(pid, 'SIGKILL'); });
}

function makeDir(): string {
  sweepOrphans();
  const dir = mkdtempSync(join(tmpdir(), TAG));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

export interface PrivatePostgres {
  /** Superuser URL (trust authentication on loopback). */
  readonly url: string;
  readonly port: number;
  /** Fast shutdown (open sessions are terminated), then start again on the same port. */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

/** A throwaway PostgreSQL cluster (initdb, trust auth, no fsync) on a free loopback port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBin();
  const user = asPgUser();
  const dir = makeDir();
  const data = join(dir, 'data');
  const sockets = join(dir, 'sock');
  const removeHook = onExit(() => { stopInstanceSync(dir); rmSync(dir, { recursive: true, force: true }); });
  try {
    execFileSync('mkdir', ['-p', sockets]);
    if (user) { chownSync(dir, user.uid, user.gid); chownSync(sockets, user.uid, user.gid); }
    await runPg(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--locale=C'], user);
    const port = await freePort();
    const opts = `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    const start = async () => {
      // A port taken between freePort() and now makes pg_ctl fail: the caller sees the log.
      try {
        await runPg(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'postgres.log'), '-o', opts, '-w', '-t', '60', 'start'], user);
      } catch (e) {
        const log = existsSync(join(dir, 'postgres.log')) ? readFileSync(join(dir, 'postgres.log'), 'utf8').slice(-2000) : '';
        throw new Error(`private PostgreSQL did not start: ${String(e)}\n${log}`);
      }
    };
    const stop = async () => {
      if (!existsSync(join(data, 'postmaster.pid'))) return;
      await runPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'], user);
    };
    await start();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    // Ready for clients (pg_ctl -w waits for the socket; check a real session once).
    const probe = postgres(url, { max: 1, onnotice: () => {} });
    try { await probe`SELECT 1`; } finally { await probe.end(); }
    let closed = false;
    return {
      url, port,
      async restart(options = {}) {
        await stop();
        if (options.downMs) await sleep(options.downMs);
        await start();
      },
      stop, start,
      async close() {
        if (closed) return;
        closed = true;
        try { await runPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'], user); } catch { stopInstanceSync(dir); }
        rmSync(dir, { recursive: true, force: true });
        removeHook();
      },
    };
  } catch (e) {
    stopInstanceSync(dir);
    rmSync(dir, { recursive: true, force: true });
    removeHook();
    throw e;
  }
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server and starts an empty one on the same port (no persistence: everything is lost). */
  restartEmpty(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A throwaway Redis (no RDB, no AOF) as a child process on a free loopback port. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = makeDir();
  const port = await freePort();
  let child: ChildProcess | undefined;
  const removeHook = onExit(() => { stopInstanceSync(dir); rmSync(dir, { recursive: true, force: true }); });
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir], { stdio: 'ignore' });
    child = c;
    if (c.pid !== undefined) writeFileSync(join(dir, 'redis.pid'), String(c.pid));
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      for (let i = 0; ; i++) {
        if (c.exitCode !== null) throw new Error(`private Redis exited at start (code ${c.exitCode})`);
        try { await probe.connect(); await probe.ping(); break; } catch (e) {
          if (i > 100) throw e;
          probe.disconnect();
          await sleep(50);
        }
      }
    } finally { probe.disconnect(); }
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGKILL'); });
  };
  try {
    await start();
  } catch (e) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    removeHook();
    throw e;
  }
  let closed = false;
  return {
    url, port, start, stop,
    async restartEmpty(options = {}) {
      await stop();
      if (options.downMs) await sleep(options.downMs);
      await start();
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
      removeHook();
    },
  };
}
