import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../../sandbox/store/lab-config.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import { startLab, type RunningLab } from '../../../server/lab/start.ts';
import { runS1ThroughTheApi } from '../../support/s1-run.ts';

/** The embedded default: no DATABASE_URL, no REDIS_URL — PGlite and the in-process queue. */
describe('embedded mode boots, seeds and answers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lab-embedded-'));
  const password = 'embedded-demo-password';
  let lab: RunningLab;

  beforeAll(async () => {
    const cfg = readConfig({ LAB_DATA_DIR: dataDir, PORT: '0', LAB_DEMO_PASSWORD: password });
    expect(cfg.mode).toBe('embedded');
    lab = await startLab(cfg, createLogger('silent'), { seedPersons: 10_000, seedName: 'embedded-test', banner: false });
  }, 240_000);
  afterAll(async () => {
    await lab?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports every database, the queue and all six domain workers healthy', async () => {
    const res = await fetch(`${lab.url}/api/health`);
    expect(res.status).toBe(200);
    const body = await res.json() as { status: string; mode: string; checks: Record<string, { ok: boolean }> };
    expect(body.mode).toBe('embedded');
    expect(body.status).toBe('ok');
    expect(Object.keys(body.checks).sort()).toEqual(['control-db', 'domain:civil', 'domain:grid', 'domain:health', 'domain:housing', 'domain:registry', 'domain:social', 'queue']);
  });

  it('seeded the city and recorded it in the control database', async () => {
    const city = await lab.control.kysely.selectFrom('city_snapshot').selectAll().executeTakeFirstOrThrow();
    expect(city).toMatchObject({ seed: 'embedded-test', persons: 10_000 });
    const districts = await lab.control.kysely.selectFrom('geo_unit').select('code').where('level', '=', 'district').execute();
    expect(districts).toHaveLength(11);
  });

  it('lets every demo account sign in with LAB_DEMO_PASSWORD and refuses a wrong one', async () => {
    for (const username of ['analyst', 'officer', 'officer2', 'researcher', 'steward.registry', 'steward.grid', 'admin']) {
      const res = await fetch(`${lab.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      expect(res.status, username).toBe(200);
    }
    const bad = await fetch(`${lab.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'analyst', password: 'not-the-password' }) });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ code: 'LAB-E010' });
  });

  it('shows a landing page at the printed URL', async () => {
    const res = await fetch(lab.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('数据实验室');
  });

  it('runs S1 end to end: saved pipeline → stage in the registry domain → guarded table', async () => {
    const table = await runS1ThroughTheApi(lab.url, password);
    expect(table.guard.cells).toBeGreaterThan(1000);
  }, 180_000);
});
