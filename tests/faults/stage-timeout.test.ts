import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S1, startFaultLab, type FaultLab } from './fault-lab.ts';

/**
 * A stage over its time limit. The limit is the statement timeout of the stage's query, set for a
 * worker process by LAB_STAGE_TIMEOUT_MS (here 5 ms, on a registry of 100 000 persons whose S1
 * roll-up takes far longer). The stage must end the job as failed with LAB-E070 naming the limit —
 * not be retried, not hang — and the same pipeline must succeed under the default limit, so that
 * the failure is the limit's and nothing else's.
 */
describe('a stage exceeding its time limit', () => {
  let lab: FaultLab | undefined;
  beforeAll(async () => {
    lab = await startFaultLab({ persons: 100_000, worker: 'child', workerEnv: { LAB_STAGE_TIMEOUT_MS: '5' } });
  });
  afterAll(async () => { await lab?.close(); });

  it('fails with LAB-E070 and the limit in its reason; nothing released; the default limit lets it through', async () => {
    if (!lab) throw new Error('set-up failed');
    const slow = await lab.run(S1);
    const job = await lab.waitForJob(slow);
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'LAB-E070' });
    expect(job.error?.en).toContain('the stage ran longer than 5 ms');
    expect(job.error?.zh).toContain('阶段运行超过 5 毫秒');
    // An answer, not an operational error: run once, not retried.
    const runs = lab.logs.filter((l) => l.includes(slow) && /"msg":"stage (refused|failed|done)"/.test(l));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toContain('"code":"LAB-E070"');
    const stageEvents = (await lab.events(slow)).filter((e) => e.kind === 'stage').map((e) => e.data);
    expect(stageEvents).toEqual([expect.objectContaining({ stage: 'out', state: 'failed', error: expect.objectContaining({ code: 'LAB-E070' }) })]);
    expect(await lab.releases(slow, 'out')).toBe(0);
    expect((await lab.api.get(`/api/jobs/${slow}/result`)).status).toBe(409);
    expect(await lab.auditActions(slow)).toEqual(['job.run', 'job.stage.fail']);

    // The same worker command without the variable: the default limit (120 s).
    await lab.stopWorker();
    await lab.startWorker({ env: {} });
    const normal = await lab.run(S1);
    expect(await lab.waitForJob(normal)).toMatchObject({ state: 'succeeded' });
    expect(await lab.releases(normal, 'out')).toBe(1);

    const audit = await lab.verifyAudit();
    expect(audit.firstBad).toBeNull();
    expect(audit.ok).toBe(true);
  });
});
