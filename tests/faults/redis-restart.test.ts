import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/lab/logger.ts';
import { keepJobsRecovered } from '../../server/services/job.service.ts';
import { startFaultLab, tablesOf as tables, TWO_TABLES, until, type FaultLab } from './fault-lab.ts';
import { startPrivateRedis, type PrivateRedis } from './private-services.ts';

/**
 * Redis (BullMQ) restarted without persistence while a job's stages are queued and running: the
 * queue forgets them, the control database does not. The coordinator's recovery sweep (run when
 * its Redis connection comes back) sends them again; the job ends with the tables an undisturbed
 * run releases, and nothing is released twice although a stage ran twice in its domain.
 * A private Redis is restarted; the machine's shared one is never touched.
 */
describe('Redis restarted empty while a job runs', () => {
  let redis: PrivateRedis | undefined;
  let lab: FaultLab | undefined;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    lab = await startFaultLab({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await lab?.close();
    await redis?.close();
  });

  it('queued and running stages are sent again from the control database: same tables, one release each, audit chain intact', async () => {
    if (!lab || !redis) throw new Error('set-up failed');
    const reference = await lab.run(TWO_TABLES);
    expect(await lab.waitForJob(reference)).toMatchObject({ state: 'succeeded' });
    const want = await lab.result(reference);
    expect(want.map((t) => t.stageId)).toEqual(['out_h', 'out_p']);
    // Tables with released values, so that "the same tables" says something.
    for (const t of want) expect((t.table as { rows: { suppressed: boolean }[] }).rows.some((r) => !r.suppressed)).toBe(true);

    // `out_h` runs and waits on the lock; `out_p` waits in the queue behind it (concurrency 1).
    const lock = await lab.holdTable('household');
    const jobId = await lab.run(TWO_TABLES);
    await lab.waitForBlockedStage();
    expect(await lab.queue.depth('registry')).toBe(2);

    await redis.restartEmpty({ downMs: 300 });
    // The recovery sweep at reconnection puts both stages back (the job's audit says so).
    await until('the job.recover audit entry', async () => ((await lab?.auditActions(jobId))?.includes('job.recover') ? true : undefined));
    const recovered = await lab.control.kysely.selectFrom('audit_entry').select('detail').where('action', '=', 'job.recover').where('resource_id', '=', jobId).execute();
    expect(recovered.map((r) => r.detail)).toEqual([{ enqueued: ['out_h', 'out_p'], redelivered: [] }]);
    // Another sweep finds both pending: sending again never doubles a stage.
    expect(await lab.recovery.sweep()).toMatchObject({ enqueued: 0, redelivered: 0, pending: 2 });
    expect(await lab.queue.depth('registry')).toBe(2);

    await lock.release();
    expect(await lab.waitForJob(jobId)).toMatchObject({ state: 'succeeded' });
    expect(tables(await lab.result(jobId))).toEqual(tables(want));

    // `out_h` ran twice in the domain (the run that held the lock, then the recovered delivery) …
    const done = lab.logs.filter((l) => l.includes('"msg":"stage done"') && l.includes(jobId));
    expect(done.filter((l) => l.includes('"stageId":"out_h"'))).toHaveLength(2);
    // … and was released once: one ledger release per stage, one stage event, one audit release.
    expect(await lab.releases(jobId, 'out_h')).toBe(1);
    expect(await lab.releases(jobId, 'out_p')).toBe(1);
    const stageEvents = (await lab.events(jobId)).filter((e) => e.kind === 'stage').map((e) => (e.data as { stage: string }).stage);
    expect(stageEvents.sort()).toEqual(['out_h', 'out_p']);
    const actions = await lab.auditActions(jobId);
    expect(actions.filter((a) => a === 'job.stage.release')).toHaveLength(2);
    expect(actions.filter((a) => a === 'job.stage.fail')).toHaveLength(0);

    // The queue works as before the restart.
    const after = await lab.run(TWO_TABLES);
    expect(await lab.waitForJob(after)).toMatchObject({ state: 'succeeded' });
    expect(tables(await lab.result(after))).toEqual(tables(want));

    const audit = await lab.verifyAudit();
    expect(audit.firstBad).toBeNull();
    expect(audit.ok).toBe(true);
  });

  it('Redis lost the work while no coordinator listened: the sweep at coordinator start sends it again', async () => {
    if (!lab || !redis) throw new Error('set-up failed');
    const reference = (await lab.control.kysely.selectFrom('job').select('id').where('state', '=', 'succeeded').orderBy('created_at').executeTakeFirstOrThrow()).id;
    const want = await lab.result(reference);
    // The running coordinator stops sweeping (as if it were down when Redis came back).
    await lab.recovery.stop();
    const lock = await lab.holdTable('household');
    const jobId = await lab.run(TWO_TABLES);
    await lab.waitForBlockedStage();
    await redis.restartEmpty({ downMs: 300 });
    await until('Redis back', async () => ((await lab?.queue.depth('registry')) === 0 ? true : undefined));
    await lock.release();
    // Nothing brings the job back by itself: the queue has forgotten it, the job stays open.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await lab.queue.depth('registry')).toBe(0);
    expect((await lab.control.kysely.selectFrom('job').select('state').where('id', '=', jobId).executeTakeFirstOrThrow()).state).toBe('queued');

    // A coordinator starting now (same code as server/lab/start.ts) sweeps once at start.
    const coordinator = await keepJobsRecovered(lab.control, lab.queue, createLogger('silent'), { intervalMs: 3_600_000 });
    try {
      expect(await lab.waitForJob(jobId)).toMatchObject({ state: 'succeeded' });
      expect(tables(await lab.result(jobId))).toEqual(tables(want));
      expect(await lab.releases(jobId, 'out_h')).toBe(1);
      const actions = await lab.auditActions(jobId);
      expect(actions.filter((a) => a === 'job.recover')).toHaveLength(1);
      expect(actions.filter((a) => a === 'job.stage.release')).toHaveLength(2);
    } finally {
      await coordinator.stop();
    }
    const audit = await lab.verifyAudit();
    expect(audit.firstBad).toBeNull();
    expect(audit.ok).toBe(true);
  });
});
