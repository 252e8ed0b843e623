import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullQueue } from '../../../sandbox/runtime/queue/bullmq.queue.ts';
import { readConfig, type LabConfig } from '../../../sandbox/store/lab-config.ts';
import { dropPostgres } from '../../../sandbox/store/topology.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import { startLab, type RunningLab } from '../../../server/lab/start.ts';
import { runS1ThroughTheApi } from '../../support/s1-run.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../support/test-env.ts';

/** Postgres + BullMQ: provisioned roles, domain workers as separate processes, health via heartbeats. */
describe('postgres mode boots with one worker process per domain', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lab-pgboot-'));
  let cfg: LabConfig;
  let lab: RunningLab;

  beforeAll(async () => {
    cfg = readConfig({
      DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LAB_DATA_DIR: dataDir, PORT: '0',
      LAB_DB_PREFIX: `tb_${randomBytes(4).toString('hex')}`, LAB_DEMO_PASSWORD: 'postgres-demo-password', LAB_LOG_LEVEL: 'silent',
    });
    lab = await startLab(cfg, createLogger('silent'), { seedPersons: 10_000, seedName: 'pg-boot', banner: false });
  }, 240_000);
  afterAll(async () => {
    await lab?.stop();
    const q = new BullQueue(cfg.redisUrl ?? TEST_REDIS_URL, cfg.dbPrefix);
    await q.obliterateAll();
    await q.close();
    await dropPostgres(cfg);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('turns healthy once all six domain workers report their own database', async () => {
    let body: { status: string; mode: string } = { status: '', mode: '' };
    for (let i = 0; i < 120 && body.status !== 'ok'; i++) {
      body = await (await fetch(`${lab.url}/api/health`)).json() as typeof body;
      if (body.status !== 'ok') await new Promise((r) => setTimeout(r, 500));
    }
    expect(body).toMatchObject({ status: 'ok', mode: 'postgres' });
  }, 90_000);

  it('wrote one credential file per role, readable by the owner only, each for its own database', () => {
    for (const name of ['control', 'registry', 'social', 'health', 'civil', 'housing', 'grid']) {
      const file = join(dataDir, 'secrets', `${name}.json`);
      const { url } = JSON.parse(readFileSync(file, 'utf8')) as { url: string };
      const u = new URL(url);
      expect(u.username).toBe(`${cfg.dbPrefix}_${name}`);
      expect(u.pathname).toBe(`/${cfg.dbPrefix}_${name}`);
      expect(u.password.length).toBeGreaterThanOrEqual(24);
    }
  });

  it('the domain worker processes connect to their own database only, as their own role', async () => {
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const rows = await admin<{ usename: string; datname: string }[]>`
        SELECT usename, datname FROM pg_stat_activity WHERE datname LIKE ${`${cfg.dbPrefix}_%`} AND usename IS NOT NULL`;
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r.usename).toBe(r.datname);
      const domains = new Set(rows.map((r) => r.datname.slice(cfg.dbPrefix.length + 1)));
      for (const d of ['registry', 'social', 'health', 'civil', 'housing', 'grid']) expect(domains.has(d), d).toBe(true);
    } finally {
      await admin.end();
    }
  });

  it('runs S1 end to end: saved pipeline → stage in the registry domain → guarded table', async () => {
    const table = await runS1ThroughTheApi(lab.url, 'postgres-demo-password');
    expect(table.guard.cells).toBeGreaterThan(1000);
  }, 180_000);
});
