import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, waitForJob, type ApiClient } from '../support/api-client.ts';
import { S1, sleep, until } from './fault-lab.ts';
import { createLabProcess, type LabProcess } from './lab-process.ts';

interface SseEvent { id: number; event: string; data: string }

/** Reads an SSE response to its end; `onEvent` sees each event as it arrives. Resolves how the stream ended. */
async function readSse(res: Response, onEvent: (e: SseEvent) => void): Promise<'ended' | `error: ${string}`> {
  const reader = res.body?.getReader();
  if (!reader) return 'error: no body';
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'ended';
      buf += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
        const id = field('id');
        if (id !== undefined) onEvent({ id: Number(id), event: field('event') ?? '', data: field('data') ?? '' });
      }
    }
  } catch (e) {
    return `error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

type Table = { stageId: string; table: unknown };
const tables = async (api: ApiClient, jobId: string) => ((await (await api.get(`/api/jobs/${jobId}/result`)).json()) as { tables: Table[] }).tables.map((t) => ({ stageId: t.stageId, table: t.table }));

/**
 * SIGTERM to the production server (`server/main.ts start`, Postgres + Redis, six worker
 * processes) while a job's stage runs in its domain, a browser follows the job's events and a
 * request is in flight: the request completes, the event stream ends cleanly (no cut connection),
 * new connections are refused, the workers hand the stage back, and the process exits 0. Started
 * again, the stream resumes after Last-Event-ID with exactly the missing events, and the job ends
 * with the table of an undisturbed run, released once.
 */
describe('graceful shutdown of the server (SIGTERM)', () => {
  let lab: LabProcess;
  let analyst: ApiClient;
  beforeAll(async () => {
    lab = await createLabProcess({ env: { LAB_WORKER_DRAIN_MS: '500', LAB_SHUTDOWN_DRAIN_MS: '20000' } });
    await lab.start();
    analyst = await signIn(lab.baseUrl, 'analyst', lab.password);
  }, 360_000);
  afterAll(async () => { await lab?.drop(); });

  it('drains: in-flight request answered, SSE ended cleanly, exit 0; after a restart the job resumes and the stream continues after Last-Event-ID', async () => {
    const run = async () => {
      const saved = await analyst.post('/api/pipelines', S1);
      expect(saved.status).toBe(201);
      const started = await analyst.post(`/api/pipelines/${(await saved.json() as { id: string }).id}/runs`);
      expect(started.status).toBe(202);
      return (await started.json() as { jobId: string }).jobId;
    };
    const reference = await run();
    expect(await waitForJob(analyst, reference)).toMatchObject({ state: 'succeeded' });
    const want = await tables(analyst, reference);

    // The stage waits on a lock in the registry; a request waits on a lock in the control database.
    const registry = lab.sql('registry');
    const control = lab.sql('control');
    const holdRegistry = registry.reserve();
    const regConn = await holdRegistry;
    await regConn`BEGIN`;
    await regConn`LOCK TABLE person IN ACCESS EXCLUSIVE MODE`;
    const jobId = await run();
    await until('the stage to wait on its lock', async () => ((await registry`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query NOT ILIKE 'LOCK TABLE%'`).length > 0 ? true : undefined));

    const seen: SseEvent[] = [];
    const sse = await analyst.get(`/api/jobs/${jobId}/events`);
    expect(sse.status).toBe(200);
    const streamEnd = readSse(sse, (e) => seen.push(e));
    await until('the first events', async () => (seen.length > 0 ? true : undefined));

    const ctlConn = await control.reserve();
    await ctlConn`BEGIN`;
    await ctlConn`LOCK TABLE catalog_dataset IN ACCESS EXCLUSIVE MODE`;
    const inFlight = analyst.get('/api/catalog');
    await until('the catalog request to wait on its lock', async () => ((await control`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE '%catalog_dataset%'`).length > 0 ? true : undefined));

    const pid = lab.pid();
    if (pid === undefined) throw new Error('no server');
    process.kill(pid, 'SIGTERM');
    // The event stream ends cleanly (the server closed it, the connection was not cut).
    expect(await streamEnd).toBe('ended');
    const lastSeen = seen.at(-1)?.id ?? 0;
    // No new connections while draining.
    await expect(fetch(`${lab.baseUrl}/api/health`)).rejects.toThrow();
    // The waiting request is still served once its lock goes.
    await sleep(300);
    expect(lab.pid()).toBe(pid);
    await ctlConn`COMMIT`;
    ctlConn.release();
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { datasets: unknown[] }).datasets.length).toBeGreaterThan(0);
    expect(await lab.exited()).toEqual({ code: 0, signal: null });
    expect(lab.logs.some((l) => l.includes('"msg":"server drained"') && l.includes('"cut":false'))).toBe(true);
    expect(lab.logs.some((l) => l.includes('signal received: draining the worker'))).toBe(true);

    // Started again (same databases, Redis, port): the stage was handed back and runs once the lock goes.
    await lab.start();
    await regConn`COMMIT`;
    regConn.release();
    const api = await signIn(lab.baseUrl, 'analyst', lab.password);
    const resumed: SseEvent[] = [];
    const again = await api.get(`/api/jobs/${jobId}/events`, { 'last-event-id': String(lastSeen) });
    expect(again.status).toBe(200);
    expect(await readSse(again, (e) => resumed.push(e))).toBe('ended');
    expect(resumed.every((e) => e.id > lastSeen)).toBe(true);
    expect(resumed.at(-1)?.data).toContain('"state":"succeeded"');
    expect(await waitForJob(api, jobId)).toMatchObject({ state: 'succeeded' });
    expect(await tables(api, jobId)).toEqual(want);
    const releases = await registry`SELECT count(*)::int AS n FROM lab_release WHERE release_id = ${`${jobId}:out`}`;
    expect(releases[0]?.['n']).toBe(1);
    const officer = await signIn(lab.baseUrl, 'officer', lab.password);
    expect(await (await officer.get('/api/audit/verify')).json()).toMatchObject({ ok: true, firstBad: null });
  }, 600_000);
});
