import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { TEST_REDIS_URL } from '../support/test-env.ts';
import { S1, startFaultLab, tablesOf, until, type FaultLab } from './fault-lab.ts';

/**
 * Scale-out: two workers of one domain share its BullMQ queue. With the stage's table locked, two
 * jobs' stages are taken by the two workers at once (two queries wait in the domain, none in the
 * queue); released, both jobs end with the table of an undisturbed run, each released once, and
 * the stage-done lines name both workers. (The speed-up is measured by `npm run bench -- load
 * --scale-out`, docs/benchmarks.md.)
 */
describe('two workers per domain share the queue', () => {
  let lab: FaultLab;
  const extra: { worker: DomainWorker; queue: BullQueue }[] = [];
  beforeAll(async () => { lab = await startFaultLab({ redisUrl: TEST_REDIS_URL }); });
  afterAll(async () => {
    for (const e of extra) { await e.worker.stop(); await e.queue.close(); }
    await lab?.close();
  });

  it('both take stages; results identical; one release each', async () => {
    const reference = await lab.run(S1);
    expect(await lab.waitForJob(reference)).toMatchObject({ state: 'succeeded' });
    const want = tablesOf(await lab.result(reference));

    // A second registry worker on its own connection to the same queue (as a second process would be).
    const logger = createLogger('info', { write: (line: string) => { lab.logs.push(line); } });
    const queue = new BullQueue(TEST_REDIS_URL, lab.prefix);
    const worker = await startDomainWorker({ domain: 'registry', db: lab.registry, queue, logger });
    extra.push({ worker, queue });
    expect((await lab.queue.heartbeats('registry')).length).toBe(2);

    const lock = await lab.holdTable('person');
    const jobs = [await lab.run(S1), await lab.run(S1)];
    // Both stages run at once, one in each worker (concurrency 1 each): two queries wait in the domain.
    await until('two stages waiting in the domain', async () => {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query NOT ILIKE 'LOCK TABLE%'`.execute(lab.registry.kysely);
      return r.rows[0]?.n === 2 ? true : undefined;
    });
    await lock.release();
    for (const j of jobs) {
      expect(await lab.waitForJob(j)).toMatchObject({ state: 'succeeded' });
      expect(tablesOf(await lab.result(j))).toEqual(want);
      expect(await lab.releases(j, 'out')).toBe(1);
    }
    const doneBy = new Set(lab.logs.filter((l) => l.includes('"msg":"stage done"') && jobs.some((j) => l.includes(j))).map((l) => (JSON.parse(l) as { workerId: string }).workerId));
    expect(doneBy.size).toBe(2);
    expect(doneBy.has(worker.workerId)).toBe(true);
  });
});
