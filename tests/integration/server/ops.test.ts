import { serve, type ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../../sandbox/domains/generator/index.ts';
import { InlineQueue } from '../../../sandbox/runtime/queue/inline.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { buildApp } from '../../../server/app.ts';
import { ensureDemoUsers } from '../../../server/lab/demo-users.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import { readinessProbe } from '../../../server/lab/readiness.ts';
import { createLabMetrics } from '../../../server/metrics/lab-metrics.ts';
import { listenForResults } from '../../../server/services/job.service.ts';
import { signIn, waitForJob, type ApiClient } from '../../support/api-client.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as unknown;
const PASSWORD = 'ops-test-password-1';
const TOKEN = 'metrics-token-for-the-ops-test';

/** One sample of the exposition: `name{labels} value`; labels given in any order. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[3] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1] ?? '', x[2] ?? '']));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[4]);
  }
  return 0;
}

/**
 * Operations endpoints on a real lab (control and six domain databases on Postgres, the six
 * workers on the in-process queue): readiness in both states, who may read the metrics, and the
 * metrics moving as an S1 run and a researcher's DP run go through.
 */
describe('operations: GET /api/ready and GET /api/metrics', () => {
  let lab: TestLab;
  let server: ServerType;
  let baseUrl = '';
  const workers: DomainWorker[] = [];
  const queue = new InlineQueue();
  let analyst: ApiClient;
  let admin: ApiClient;
  const shutdown = new AbortController();

  beforeAll(async () => {
    lab = await createPgTestLab();
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    await seedCity({ persons: 10_000, seed: 'ops', domains });
    const logger = createLogger('silent');
    for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue, logger }));
    await ensureDemoUsers(lab.control, PASSWORD);
    await listenForResults(lab.control, queue, logger);
    const metrics = createLabMetrics({ control: lab.control, queue });
    await metrics.observeResults(queue);
    const app = buildApp({
      control: lab.control, logger, queue, metrics,
      health: async () => ({ status: 'ok', mode: 'postgres', checks: {} }),
      ready: readinessProbe(lab.control, queue, { shutdown: shutdown.signal }),
      config: { secureCookies: false, metricsToken: TOKEN },
    });
    server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)); });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    analyst = await signIn(baseUrl, 'analyst', PASSWORD);
    admin = await signIn(baseUrl, 'admin', PASSWORD);
  }, 240_000);
  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const w of workers) await w.stop();
    await queue.close();
    await lab?.drop();
  });

  it('ready: 200 with every part checked while the database, migrations, queue and six workers are there', async () => {
    const res = await fetch(`${baseUrl}/api/ready`);
    const body = await res.json() as { ready: boolean; checks: Record<string, { ok: boolean; error?: string }> };
    expect(res.status).toBe(200);
    expect(body.ready).toBe(true);
    expect(Object.keys(body.checks).sort()).toEqual(['control-db', 'migrations', 'queue', 'shutdown', ...DOMAIN_IDS.map((d) => `domain:${d}`)].sort());
    expect(Object.values(body.checks).every((c) => c.ok)).toBe(true);
    // Liveness keeps its own contract (no sign-in, a HealthReport).
    expect((await fetch(`${baseUrl}/api/health`)).status).toBe(200);
  });

  it('not ready: 503 naming the part — a queue without workers, a queue that is closed, a server shutting down', async () => {
    const empty = new InlineQueue();
    const noWorkers = await readinessProbe(lab.control, empty)();
    expect(noWorkers.ready).toBe(false);
    expect(noWorkers.checks['control-db']).toEqual({ ok: true });
    expect(noWorkers.checks['migrations']).toEqual({ ok: true });
    expect(noWorkers.checks['queue']).toEqual({ ok: true });
    expect(noWorkers.checks['domain:registry']).toEqual({ ok: false, error: 'no live worker heartbeat' });
    await empty.close();
    const closed = await readinessProbe(lab.control, empty)();
    expect(closed.checks['queue']?.ok).toBe(false);
    expect(closed.checks['domain:health']).toEqual({ ok: false, error: 'queue unreachable' });
    expect((await readinessProbe(lab.control, undefined)()).checks['queue']).toEqual({ ok: false, error: 'no queue configured' });

    // The same server, once its shutdown has begun: 503 over HTTP, with the failing part named.
    // (this app is built without the draining middleware: only its readiness sees the signal)
    shutdown.abort();
    const res = await fetch(`${baseUrl}/api/ready`);
    expect(res.status).toBe(503);
    const body = await res.json() as { ready: boolean; checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.ready).toBe(false);
    expect(body.checks['shutdown']).toEqual({ ok: false, error: 'the server is shutting down' });
    expect(body.checks['control-db']?.ok).toBe(true);
  });

  it('metrics: anonymous 401, a wrong bearer token 401 LAB-E170, an analyst 403 LAB-E137; an admin session or the token read them', async () => {
    const anon = await fetch(`${baseUrl}/api/metrics`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ code: 'LAB-E011' });
    const wrong = await fetch(`${baseUrl}/api/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 'LAB-E170' });
    const denied = await analyst.get('/api/metrics');
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: 'LAB-E137' });
    const bySession = await admin.get('/api/metrics');
    expect(bySession.status).toBe(200);
    expect(bySession.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const byToken = await fetch(`${baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(byToken.status).toBe(200);
    const text = await byToken.text();
    expect(text).toContain('# TYPE lab_http_requests_total counter');
    expect(text).toContain('# TYPE lab_stage_duration_seconds histogram');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('after an S1 run and a researcher\'s DP run the numbers moved as expected', async () => {
    const scrape = async () => (await fetch(`${baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const before = await scrape();

    const saved = await analyst.post('/api/pipelines', example('s1-population-rollup'));
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await analyst.post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const { jobId } = await run.json() as { jobId: string };
    expect(await waitForJob(analyst, jobId)).toMatchObject({ state: 'succeeded' });
    const result = await (await analyst.get(`/api/jobs/${jobId}/result`)).json() as { tables: { domain: string; table: { guard: { cells: number; suppressed: number } } }[] };
    const guard = result.tables.map((t) => t.table.guard);
    const cells = guard.reduce((a, g) => a + g.cells, 0);
    const suppressed = guard.reduce((a, g) => a + g.suppressed, 0);
    expect(cells).toBeGreaterThan(0);

    // A researcher's S7 study: approved by an officer, then ε 1 charged to the project.
    const researcher = await signIn(baseUrl, 'researcher', PASSWORD);
    const officer = await signIn(baseUrl, 'officer', PASSWORD);
    const s7 = await researcher.post('/api/pipelines', example('s7-floating-age-structure'));
    const s7Run = await researcher.post(`/api/pipelines/${(await s7.json() as { id: string }).id}/runs`);
    const s7Job = (await s7Run.json() as { jobId: string }).jobId;
    expect((await officer.post(`/api/jobs/${s7Job}/approve`, { note: 'ops metrics test' })).status).toBe(200);
    expect(await waitForJob(researcher, s7Job)).toMatchObject({ state: 'succeeded' });
    const budgets = await (await researcher.get('/api/budgets')).json() as { budgets: { projectId: string }[] };
    const project = budgets.budgets[0]?.projectId ?? '';

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('lab_jobs', { state: 'succeeded' })).toBe(2);
    expect(sample(after, 'lab_jobs', { state: 'queued' })).toBe(0);
    expect(delta('lab_stage_answers_total', { domain: 'registry', outcome: 'succeeded' })).toBe(2);
    expect(delta('lab_stage_duration_seconds_count', { domain: 'registry', outcome: 'succeeded' })).toBe(2);
    expect(delta('lab_stage_duration_seconds_sum', { domain: 'registry', outcome: 'succeeded' })).toBeGreaterThan(0);
    // S1's cells and suppressions, plus the S7 table's (at least as many cells as it has).
    expect(delta('lab_guard_cells_total', { domain: 'registry' })).toBeGreaterThan(cells);
    expect(delta('lab_guard_suppressed_cells_total', { domain: 'registry' })).toBeGreaterThanOrEqual(suppressed);
    expect(sample(after, 'lab_dp_epsilon_spent', { project })).toBe(1);
    expect(sample(before, 'lab_dp_epsilon_spent', { project })).toBe(0);
    expect(sample(after, 'lab_queue_depth', { domain: 'registry' })).toBe(0);
    expect(sample(after, 'lab_worker_heartbeats', { domain: 'grid' })).toBe(1);
    expect(delta('lab_http_requests_total', { method: 'POST', route: '/api/pipelines', status: '201' })).toBe(2);
    expect(delta('lab_http_requests_total', { method: 'GET', route: '/api/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(2);
    expect(delta('lab_http_request_duration_seconds_count', { method: 'POST', route: '/api/pipelines/:id/runs' })).toBe(2);
    // Raw paths (ids) never become series.
    expect(after).not.toContain(jobId);
  });
});
