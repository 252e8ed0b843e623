import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultLab, tablesOf, TWO_TABLES, until, type FaultLab, type ResultTable } from './fault-lab.ts';
import { startPrivatePostgres, type PrivatePostgres } from './private-services.ts';

/**
 * PostgreSQL restarted under a running lab. The control database and the domain database live on
 * two private PostgreSQL servers (the machine's shared one is never touched), so either side can be
 * restarted alone. The coordinator and the HTTP server run in this process, the registry worker is
 * the production command (`server/main.ts worker`) in a child process. No process may die: the
 * worker keeps its pid, and an uncaught exception here fails the test.
 */
describe('PostgreSQL restarted under a running lab', () => {
  let controlPg: PrivatePostgres | undefined;
  let domainPg: PrivatePostgres | undefined;
  let lab: FaultLab | undefined;
  let want: ResultTable[] = [];
  let workerPid: number | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => { uncaught.push(e); };

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    [controlPg, domainPg] = await Promise.all([startPrivatePostgres(), startPrivatePostgres()]);
    lab = await startFaultLab({ controlAdminUrl: controlPg.url, domainAdminUrl: domainPg.url, worker: 'child' });
    workerPid = lab.workerPid();
    const reference = await lab.run(TWO_TABLES);
    expect(await lab.waitForJob(reference)).toMatchObject({ state: 'succeeded' });
    want = await lab.result(reference);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await lab?.close();
    await controlPg?.close();
    await domainPg?.close();
  });

  const setUp = () => {
    if (!lab || !controlPg || !domainPg) throw new Error('set-up failed');
    return { lab, controlPg, domainPg };
  };

  it('both servers restarted while idle: server and worker reconnect by themselves, the next job runs', async () => {
    const { lab, controlPg, domainPg } = setUp();
    await Promise.all([controlPg.restart(), domainPg.restart()]);
    // The session survives in the control database; the pooled connections reconnect on use.
    const jobId = await lab.run(TWO_TABLES);
    expect(await lab.waitForJob(jobId)).toMatchObject({ state: 'succeeded' });
    expect(tablesOf(await lab.result(jobId))).toEqual(tablesOf(want));
    expect(lab.workerPid()).toBe(workerPid);
  });

  it('the domain\'s server restarted while a stage\'s query runs: the queue retries the stage, same tables, one release', async () => {
    const { lab, domainPg } = setUp();
    const lock = await lab.holdTable('household');
    const jobId = await lab.run(TWO_TABLES);
    await lab.waitForBlockedStage();
    // Fast shutdown ends the waiting query (and the lock holder's session) mid-stage.
    await domainPg.restart();
    await lock.release();
    expect(await lab.waitForJob(jobId)).toMatchObject({ state: 'succeeded' });
    expect(tablesOf(await lab.result(jobId))).toEqual(tablesOf(want));
    expect(lab.logs.some((l) => l.includes('"msg":"stage failed"') && l.includes(jobId))).toBe(true); // it did break
    expect(await lab.releases(jobId, 'out_h')).toBe(1);
    expect(await lab.releases(jobId, 'out_p')).toBe(1);
    expect((await lab.auditActions(jobId)).filter((a) => a === 'job.stage.release')).toHaveLength(2);
    expect(lab.workerPid()).toBe(workerPid);
  });

  it('the control database is down when the domain answers: the answer is recorded once it is back', async () => {
    const { lab, controlPg } = setUp();
    const lock = await lab.holdTable('household');
    const jobId = await lab.run(TWO_TABLES);
    await lab.waitForBlockedStage();
    await controlPg.stop();
    await lock.release();
    // Both stages finish in the domain while the coordinator cannot write down their answers.
    await until('both stages done in the domain', async () => (
      lab.logs.filter((l) => l.includes('"msg":"stage done"') && l.includes(jobId)).length >= 2 ? true : undefined));
    await until('a failed recording', async () => (lab.logs.some((l) => l.includes('could not record a stage result') && l.includes(jobId)) ? true : undefined));
    await controlPg.start();
    expect(await lab.waitForJob(jobId)).toMatchObject({ state: 'succeeded' });
    expect(tablesOf(await lab.result(jobId))).toEqual(tablesOf(want));
    const actions = await lab.auditActions(jobId);
    expect(actions.filter((a) => a === 'job.stage.release')).toHaveLength(2);
    const stageEvents = (await lab.events(jobId)).filter((e) => e.kind === 'stage');
    expect(stageEvents).toHaveLength(2);
  });

  it('the domain\'s server down for longer than the retries: the job fails cleanly with a reason; the next one runs', async () => {
    const { lab, domainPg } = setUp();
    await domainPg.stop();
    const jobId = await lab.run(TWO_TABLES);
    // Three attempts (now, +1 s, +2 s) fail to reach the domain's database.
    const job = await lab.waitForJob(jobId, 30_000);
    await domainPg.start();
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'LAB-E020', en: 'the domain could not run the stage after retries' });
    expect(await lab.releases(jobId, 'out_h')).toBe(0);
    const again = await lab.run(TWO_TABLES);
    expect(await lab.waitForJob(again)).toMatchObject({ state: 'succeeded' });
    expect(tablesOf(await lab.result(again))).toEqual(tablesOf(want));
    expect(lab.workerPid()).toBe(workerPid);
  });

  it('after every fault: no process died and the audit chain verifies', async () => {
    const { lab } = setUp();
    expect(uncaught).toEqual([]);
    expect(lab.workerPid()).toBe(workerPid);
    expect(lab.logs.filter((l) => l.includes('[worker stderr]'))).toEqual([]);
    const audit = await lab.verifyAudit();
    expect(audit.firstBad).toBeNull();
    expect(audit.ok).toBe(true);
  });
});
