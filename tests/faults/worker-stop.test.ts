import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetRepository } from '../../server/repositories/budget.repository.ts';
import { createUser } from '../../server/services/user.service.ts';
import { signIn, waitForJob, type ApiClient } from '../support/api-client.ts';
import { S1, sleep, startFaultLab, tablesOf, until, type FaultLab } from './fault-lab.ts';

const S7 = {
  specVersion: 1,
  name: 'faults: floating population by district and sex (researcher, DP)',
  nodes: [
    { id: 'persons', op: 'source@1', params: { dataset: 'registry.person' }, position: { x: 0, y: 0 } },
    { id: 'floating', op: 'filter@1', inputs: { rows: 'persons' }, params: { condition: "status = 'active' AND household_type = 'floating'" }, position: { x: 240, y: 0 } },
    { id: 'rollup', op: 'geo-rollup@1', inputs: { rows: 'floating' }, params: { depth: 'district', by: ['sex'], measures: [{ kind: 'count_persons' }] }, position: { x: 480, y: 0 } },
    { id: 'out', op: 'output@1', inputs: { table: 'rollup' }, params: { title: 'floating', chart: 'bar' }, position: { x: 720, y: 0 } },
  ],
};
const PASSWORD = 'worker-stop-password-1';

/**
 * A stage's query waiting on the held lock in the registry (its first query: the condition audit or
 * the table's query — whatever it starts with; the lock holders' own LOCK statements excluded).
 */
async function blockedStage(lab: FaultLab): Promise<number> {
  return until('a stage waiting on the lock', async () => {
    const r = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query NOT ILIKE 'LOCK TABLE%'`.execute(lab.registry.kysely);
    return r.rows[0]?.pid;
  });
}

const exited = (lab: FaultLab) => until('the worker to exit', async () => (lab.workerPid() === undefined ? lab.lastWorkerExit() : undefined), 60_000);
const stageDone = (lab: FaultLab, jobId: string) => lab.logs.filter((l) => l.includes('"msg":"stage done"') && l.includes(jobId)).length;

/**
 * A domain worker stopped while a stage runs inside its domain, as the production command
 * (`server/main.ts worker`, a child process on BullMQ): SIGTERM (drain: finish the stage, or hand
 * it back to the queue when the drain time is up; exit 0) and kill -9 (the stage is taken up again
 * when BullMQ sees its lock expire). Either way the job ends with the table of an undisturbed run,
 * one ledger release, one stage event, one audit release — and a researcher's ε is charged once.
 */
describe('a domain worker stopped mid-stage (SIGTERM, kill -9)', () => {
  let lab: FaultLab;
  let want: ReturnType<typeof tablesOf>;

  beforeAll(async () => {
    lab = await startFaultLab({ worker: 'child' });
    const reference = await lab.run(S1);
    expect(await lab.waitForJob(reference)).toMatchObject({ state: 'succeeded' });
    want = tablesOf(await lab.result(reference));
  });
  afterAll(async () => { await lab?.close(); });

  /** One stage event and one audit release; ledger rows: one (staff tables; DP releases keep no ledger rows, so none). */
  const once = async (jobId: string, stageId: string, ledgerRows = 1) => {
    expect(await lab.releases(jobId, stageId)).toBe(ledgerRows);
    const stageEvents = (await lab.events(jobId)).filter((e) => e.kind === 'stage');
    expect(stageEvents).toHaveLength(1);
    expect((await lab.auditActions(jobId)).filter((a) => a === 'job.stage.release')).toHaveLength(1);
  };

  it('SIGTERM while the stage runs and it ends within the drain time: finished by the same worker, which then exits 0', async () => {
    await lab.stopWorker();
    await lab.startWorker({ env: { LAB_WORKER_DRAIN_MS: '30000' } });
    const lock = await lab.holdTable('person');
    const jobId = await lab.run(S1);
    await blockedStage(lab);
    const pid = lab.workerPid();
    if (pid === undefined) throw new Error('no worker');
    process.kill(pid, 'SIGTERM');
    await until('the drain to begin', async () => (lab.logs.some((l) => l.includes('signal received: draining the worker')) ? true : undefined));
    await sleep(500);
    expect(lab.workerPid()).toBe(pid); // still draining
    await lock.release();
    expect(await exited(lab)).toEqual({ code: 0, signal: null });
    expect(await lab.waitForJob(jobId)).toMatchObject({ state: 'succeeded' });
    expect(tablesOf(await lab.result(jobId))).toEqual(want);
    expect(stageDone(lab, jobId)).toBe(1);
    await once(jobId, 'out');
    await lab.startWorker();
  });

  it('SIGTERM while the stage runs past the drain time: handed back to the queue, exit 0; a new worker finishes it — same table, one release', async () => {
    await lab.stopWorker();
    await lab.startWorker({ env: { LAB_WORKER_DRAIN_MS: '300' } });
    const lock = await lab.holdTable('person');
    const jobId = await lab.run(S1);
    const backend = await blockedStage(lab);
    const pid = lab.workerPid();
    if (pid === undefined) throw new Error('no worker');
    process.kill(pid, 'SIGTERM');
    expect(await exited(lab)).toEqual({ code: 0, signal: null });
    // The stage's query was stopped in the domain, and the delivery waits in the queue again (not failed, not retried later).
    await until('the stopped query to leave the domain', async () => {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${backend} AND wait_event_type = 'Lock' AND state = 'active'`.execute(lab.registry.kysely);
      return r.rows[0]?.n === 0 ? true : undefined;
    });
    expect(await lab.queue.depth('registry')).toBe(1);
    expect((await lab.waitForJob(jobId, 300).catch((e: unknown) => String(e)))).toMatch(/still (queued|running)/);
    await lab.startWorker();
    await lock.release();
    expect(await lab.waitForJob(jobId)).toMatchObject({ state: 'succeeded' });
    expect(tablesOf(await lab.result(jobId))).toEqual(want);
    expect(stageDone(lab, jobId)).toBe(1);
    await once(jobId, 'out');
    expect((await lab.verifyAudit()).ok).toBe(true);
  });

  it('kill -9 mid-stage (an analyst\'s S1 running, a researcher\'s DP job queued behind it): both finish after a restart; one release each; ε charged once; audit chain verifies', async () => {
    // A researcher with a budget in a project, and an officer to approve the study.
    const researcher = await createUser(lab.control, { username: 'res', displayName: 'Res', role: 'researcher', password: PASSWORD });
    await createUser(lab.control, { username: 'off', displayName: 'Off', role: 'officer', password: PASSWORD });
    await budgetRepository.ensureProject(lab.control.kysely, 'p-faults', 'faults');
    await budgetRepository.grant(lab.control.kysely, { projectId: 'p-faults', userId: researcher.id, total: '3' });
    const res: ApiClient = await signIn(lab.baseUrl, 'res', PASSWORD);
    const off: ApiClient = await signIn(lab.baseUrl, 'off', PASSWORD);

    const lock = await lab.holdTable('person');
    const staffJob = await lab.run(S1);
    await blockedStage(lab);
    const saved = await res.post('/api/pipelines', S7);
    expect(saved.status).toBe(201);
    const run = await res.post(`/api/pipelines/${(await saved.json() as { id: string }).id}/runs`);
    expect(run.status).toBe(202);
    const dpJob = (await run.json() as { jobId: string; state: string }).jobId;
    expect((await off.post(`/api/jobs/${dpJob}/approve`, { note: 'faults' })).status).toBe(200);
    await until('both stages in the queue', async () => ((await lab.queue.depth('registry')) === 2 ? true : undefined));

    const pid = lab.workerPid();
    if (pid === undefined) throw new Error('no worker');
    process.kill(pid, 'SIGKILL');
    expect(await exited(lab)).toEqual({ code: null, signal: 'SIGKILL' });
    await lock.release();
    await lab.startWorker();
    // The running stage comes back when BullMQ finds its lock expired (STAGE_LOCK_MS), the queued one at once.
    expect(await waitForJob(res, dpJob, 150_000)).toMatchObject({ state: 'succeeded' });
    expect(await lab.waitForJob(staffJob, 150_000)).toMatchObject({ state: 'succeeded' });
    expect(tablesOf(await lab.result(staffJob))).toEqual(want);
    await once(staffJob, 'out');
    await once(dpJob, 'out', 0);
    // ε: one charge row, spent = the job's ε, one budget.charge audit entry.
    const charges = await lab.control.kysely.selectFrom('dp_charge').select(['job_id', 'epsilon']).where('project_id', '=', 'p-faults').execute();
    expect(charges.map((c) => c.job_id)).toEqual([dpJob]);
    const budget = await lab.control.kysely.selectFrom('dp_budget').select(['spent']).where('project_id', '=', 'p-faults').executeTakeFirstOrThrow();
    expect(Number(budget.spent)).toBe(Number(charges[0]?.epsilon));
    expect((await lab.auditActions(dpJob)).filter((a) => a === 'budget.charge')).toHaveLength(1);
    const verified = await lab.verifyAudit();
    expect(verified).toMatchObject({ ok: true, firstBad: null });
  }, 240_000);
});
