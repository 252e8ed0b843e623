import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import { executeStage, runStageQuery, stageFor, type StagePayload } from '../../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

const s1 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as unknown;
const payload: StagePayload = { jobId: 'cancel1', stageId: 'out', pipeline: s1, guard: DEFAULT_STAFF_PARAMS };

describe('cancelling a stage inside the domain (Postgres)', () => {
  let lab: TestLab;
  let registry: Database;

  beforeAll(async () => {
    lab = await createPgTestLab();
    registry = await lab.domain('registry');
    await sql`INSERT INTO lab_meta (key, value) VALUES ('as_of', '2026-06-30')`.execute(registry.kysely);
  });
  afterAll(async () => { await lab?.drop(); });

  it('an abort stops the running query (here: waiting on a lock) with LAB-E073, and nothing is recorded', async () => {
    // Another session holds the table, so the stage's query waits until it is cancelled.
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => { locked = resolve; });
    const holder = registry.kysely.transaction().execute(async (trx) => {
      await sql`LOCK TABLE person IN ACCESS EXCLUSIVE MODE`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const aborter = new AbortController();
    const started = Date.now();
    const run = executeStage(registry, 'registry', payload, { signal: aborter.signal });
    const waiting = async () => {
      for (;;) {
        const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`.execute(registry.kysely);
        if ((r.rows[0]?.n ?? 0) > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waiting();
    aborter.abort();
    await expect(run).rejects.toMatchObject({ code: 'LAB-E073' });
    expect(Date.now() - started).toBeLessThan(60_000);
    release();
    await holder;
    const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM lab_release`.execute(registry.kysely);
    expect(n.rows[0]?.n).toBe(0);
  });

  it('a stage aborted before it starts runs nothing', async () => {
    const aborter = new AbortController();
    aborter.abort();
    await expect(runStageQuery(registry, stageFor('registry', payload), { signal: aborter.signal })).rejects.toMatchObject({ code: 'LAB-E073' });
  });
});
