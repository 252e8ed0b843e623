import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBadInputLab, type BadInputLab } from '../bad-input/bad-input-harness.ts';

const s1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as unknown;

interface Job { state: string; error?: unknown }
async function waitFor(lab: BadInputLab, jobId: string): Promise<Job> {
  for (let i = 0; i < 600; i++) {
    const job = await (await lab.get(`/api/jobs/${jobId}`)).json() as Job;
    if (job.state !== 'queued' && job.state !== 'running') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  const events = await (await lab.get(`/api/jobs/${jobId}/events`)).text();
  throw new Error(`job ${jobId} did not finish: ${events.slice(0, 2000)}`);
}

/** Another session holds the person table, so a stage's query waits until released (or stopped). */
async function holdPersonTable(lab: BadInputLab): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => { locked = resolve; });
  const holder = lab.registry.kysely.transaction().execute(async (trx) => {
    await sql`LOCK TABLE person IN ACCESS EXCLUSIVE MODE`.execute(trx);
    locked();
    await held;
  });
  await isLocked;
  return { async release() { release(); await holder; } };
}

async function run(lab: BadInputLab): Promise<string> {
  const saved = await lab.post('/api/pipelines', s1);
  expect(saved.status).toBe(201);
  const { id } = await saved.json() as { id: string };
  const started = await lab.post(`/api/pipelines/${id}/runs`);
  expect(started.status).toBe(202);
  return (await started.json() as { jobId: string }).jobId;
}

/**
 * Faults inside a domain while a stage runs. The job's outcome must be what an undisturbed run
 * gives: operational errors are retried with backoff; nothing is released twice.
 */
describe('faults and cancels while a stage runs inside its domain', () => {
  let lab: BadInputLab;
  beforeAll(async () => { lab = await createBadInputLab(); });
  afterAll(async () => { await lab?.close(); });

  it('terminating the worker\'s backend during the stage: retried, same released table as an undisturbed run', async () => {
    const reference = await run(lab);
    expect(await waitFor(lab, reference)).toMatchObject({ state: 'succeeded' });
    const want = await (await lab.get(`/api/jobs/${reference}/result`)).json() as { tables: { table: unknown }[] };

    // Hold the table so the stage's query waits, then kill the session it waits in.
    const lock = await holdPersonTable(lab);
    const jobId = await run(lab);
    let pid: number | undefined;
    for (let i = 0; i < 300 && pid === undefined; i++) {
      const r = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE 'WITH%'`.execute(lab.registry.kysely);
      pid = r.rows[0]?.pid;
      if (pid === undefined) await new Promise((r2) => setTimeout(r2, 50));
    }
    expect(pid).toBeDefined();
    await sql`SELECT pg_terminate_backend(${pid})`.execute(lab.registry.kysely);
    await lock.release();

    expect(await waitFor(lab, jobId)).toMatchObject({ state: 'succeeded' });
    const got = await (await lab.get(`/api/jobs/${jobId}/result`)).json() as { tables: { table: unknown }[] };
    expect(got.tables.map((t) => t.table)).toEqual(want.tables.map((t) => t.table));
    // One ledger entry for the job's stage, though it ran twice.
    const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM lab_release WHERE release_id = ${`${jobId}:out`}`.execute(lab.registry.kysely);
    expect(n.rows[0]?.n).toBe(1);
  });

  it('cancelling the job through the API stops the stage\'s query inside the domain; nothing is released', async () => {
    const lock = await holdPersonTable(lab);
    const jobId = await run(lab);
    const waiting = async () => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE 'WITH%'`.execute(lab.registry.kysely)).rows[0]?.n ?? 0);
    for (let i = 0; i < 300 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await waiting()).toBe(1);
    const res = await lab.post(`/api/jobs/${jobId}/cancel`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'cancelled' });
    // The query is gone from the domain while the lock is still held: it was cancelled, not finished.
    for (let i = 0; i < 100 && (await waiting()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await waiting()).toBe(0);
    await lock.release();
    await new Promise((r) => setTimeout(r, 1500)); // a retry would have started by now
    expect((await (await lab.get(`/api/jobs/${jobId}`)).json() as Job).state).toBe('cancelled');
    expect((await lab.get(`/api/jobs/${jobId}/result`)).status).toBe(409);
    const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM lab_release WHERE release_id = ${`${jobId}:out`}`.execute(lab.registry.kysely);
    expect(n.rows[0]?.n).toBe(0);
  });
});

