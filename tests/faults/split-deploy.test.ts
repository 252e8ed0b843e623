import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { readConfig, type LabConfig } from '../../sandbox/store/lab-config.ts';
import { dropPostgres, roleUrl } from '../../sandbox/store/topology.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { openControl, openDomains, seedLab } from '../../server/lab/lab-services.ts';
import { signIn, waitForJob } from '../support/api-client.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.ts';
import { S1, sleep } from './fault-lab.ts';
import { freePort, killOnExit } from './private-services.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));

/**
 * The deployment of docs/deploy.md, on one machine: an administrator provisions and seeds with the
 * admin URL (then it is gone); the coordinator (`server/main.ts coordinator`) gets only the control
 * role's URL and Redis; each domain's worker (`server/main.ts worker`) only its own database's URL
 * and Redis — no process gets the admin URL or another's credentials. S1 runs end to end, every
 * connection to a domain database is that domain's own role, and SIGTERM ends every process with 0.
 */
describe('split deployment: coordinator without domain credentials, one worker process per domain', () => {
  const prefix = `s_${randomBytes(5).toString('hex')}`;
  const dirs: string[] = [];
  const procs = new Map<string, ChildProcess>();
  const logs: string[] = [];
  let cfg: LabConfig;
  let baseUrl = '';
  const password = 'split-deploy-password-1';

  const launch = (name: string, args: string[], env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'split-deploy-'));
    dirs.push(dir);
    const c = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LAB_DATA_DIR: dir, LAB_DB_PREFIX: prefix, REDIS_URL: TEST_REDIS_URL, LAB_LOG_LEVEL: 'info', ...env },
    });
    if (c.pid !== undefined) { const undo = killOnExit(c.pid); c.once('exit', undo); }
    const collect = (b: Buffer) => logs.push(...b.toString('utf8').split('\n').filter(Boolean).map((l) => `[${name}] ${l}`));
    c.stdout?.on('data', collect);
    c.stderr?.on('data', collect);
    procs.set(name, c);
  };

  beforeAll(async () => {
    // The administrator's part: provision, migrate and seed (the admin URL stays here).
    const adminDir = mkdtempSync(join(tmpdir(), 'split-deploy-admin-'));
    dirs.push(adminDir);
    cfg = readConfig({ DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LAB_DB_PREFIX: prefix, LAB_DATA_DIR: adminDir, PORT: '0' });
    const logger = createLogger('silent');
    const control = await openControl(cfg, logger);
    const domains = await openDomains(cfg);
    await seedLab(control, domains, { persons: 10_000, seed: 'split' }, logger);
    for (const d of DOMAIN_IDS) await domains[d].close();
    await control.close();

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    launch('coordinator', ['coordinator'], { LAB_CONTROL_DATABASE_URL: roleUrl(cfg, 'control'), PORT: String(port), LAB_DEMO_PASSWORD: password });
    for (const d of DOMAIN_IDS) launch(d, ['worker', '--domain', d], { LAB_DOMAIN_DATABASE_URL: roleUrl(cfg, d) });
    const until = Date.now() + 240_000;
    for (;;) {
      const ok = await fetch(`${baseUrl}/api/ready`).then((r) => r.status === 200, () => false);
      if (ok) break;
      const dead = [...procs.entries()].find(([, c]) => c.exitCode !== null);
      if (dead) throw new Error(`${dead[0]} exited with ${dead[1].exitCode}:\n${logs.slice(-30).join('\n')}`);
      if (Date.now() > until) throw new Error(`not ready:\n${logs.slice(-30).join('\n')}`);
      await sleep(500);
    }
  }, 360_000);

  afterAll(async () => {
    for (const c of procs.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sleep(200);
    const q = new BullQueue(TEST_REDIS_URL, prefix);
    await q.obliterateAll().catch(() => undefined);
    await q.close();
    if (cfg) await dropPostgres(cfg).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('S1 runs; no process holds another\'s credentials; domain databases see only their own role; SIGTERM exits 0', async () => {
    // What each process was given.
    const environ = (name: string) => readFileSync(`/proc/${procs.get(name)?.pid}/environ`, 'utf8').split('\0');
    const coordinatorEnv = environ('coordinator');
    expect(coordinatorEnv.filter((e) => /DATABASE_URL=/.test(e)).map((e) => e.split('=')[0])).toEqual(['LAB_CONTROL_DATABASE_URL']);
    const registryEnv = environ('registry');
    expect(registryEnv.filter((e) => /DATABASE_URL=/.test(e)).map((e) => e.split('=')[0])).toEqual(['LAB_DOMAIN_DATABASE_URL']);
    expect(registryEnv.find((e) => e.startsWith('LAB_DOMAIN_DATABASE_URL='))).toContain(`${prefix}_registry`);

    const analyst = await signIn(baseUrl, 'analyst', password);
    const saved = await analyst.post('/api/pipelines', S1);
    expect(saved.status).toBe(201);
    const run = await analyst.post(`/api/pipelines/${(await saved.json() as { id: string }).id}/runs`);
    expect(run.status).toBe(202);
    const jobId = (await run.json() as { jobId: string }).jobId;
    expect(await waitForJob(analyst, jobId)).toMatchObject({ state: 'succeeded' });
    const result = await (await analyst.get(`/api/jobs/${jobId}/result`)).json() as { tables: { table: { rows: unknown[] } }[] };
    expect(result.tables[0]?.table.rows.length).toBeGreaterThan(10);

    // Who is connected to which database (the test's own admin session excluded).
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const rows = await admin<{ datname: string; usename: string }[]>`
        SELECT DISTINCT datname, usename FROM pg_stat_activity WHERE datname LIKE ${`${prefix}\\_%`} AND pid <> pg_backend_pid()`;
      expect(rows.length).toBeGreaterThanOrEqual(7);
      for (const r of rows) expect(r.usename, r.datname).toBe(r.datname);
    } finally {
      await admin.end({ timeout: 1 });
    }

    // SIGTERM: every process drains and exits 0.
    const exits = [...procs.entries()].map(([name, c]) => new Promise<[string, number | null]>((resolve) => c.once('exit', (code) => resolve([name, code]))));
    for (const c of procs.values()) c.kill('SIGTERM');
    const codes = Object.fromEntries(await Promise.all(exits));
    expect(codes).toEqual(Object.fromEntries(['coordinator', ...DOMAIN_IDS].map((n) => [n, 0])));
  }, 240_000);
});
