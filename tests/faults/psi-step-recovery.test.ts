import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import { closeAllPsiSessions, heldPsiSessions, type PsiPayload } from '../../sandbox/runtime/worker/psi-step.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { recoverJobs } from '../../server/services/job.service.ts';
import { waitForJob } from '../support/api-client.ts';
import { runAsAnalyst, startPsiLab, type PsiLab } from '../support/psi-lab.ts';

const s4a = JSON.parse(readFileSync(new URL('../../examples/pipelines/s4-suspected-unregistered.json', import.meta.url), 'utf8')) as { nodes: { id: string }[] } & Record<string, unknown>;
const SOCIAL = new Set(['registry', 'employment', 'emp_w', 'emp_unreg', 'emp_by_district', 'out_social', 'list_social']);
const socialOnly = { ...s4a, name: 'S4a social only', nodes: s4a.nodes.filter((n) => SOCIAL.has(n.id)) };

/**
 * A PSI step whose delivery is lost (the queue lost the sender's phase: Redis restarted empty, a
 * worker died): the recovery sweep leaves a step that moved recently alone and holds back the
 * stages that read its members; once the step has not moved for the stall time it restarts it
 * from scratch (run 1, new keys in both domains), and the job ends with the right members; the old
 * run's receiver key is wiped at the job's end.
 */
describe('recovery of a stalled PSI step', () => {
  let l: PsiLab;
  beforeAll(async () => { l = await startPsiLab(new InlineQueue(), 'psi-recover'); }, 300_000);
  afterAll(async () => { await l?.close(); });

  it('a lost delivery: left alone while fresh, stages held back; restarted from scratch when stalled; the right members at the end', async () => {
    const logger = createLogger('silent');
    let lost = 0;
    l.relay.tamper = (m) => {
      const p = m.payload as Partial<PsiPayload>;
      if (p.type === 'psi' && p.phase === 'sender' && p.run === 0) { lost++; return undefined; }
      return m;
    };
    const jobId = await runAsAnalyst(l, socialOnly);
    for (let i = 0; i < 300 && lost === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(lost).toBe(1);
    expect(heldPsiSessions()).toBe(1); // run 0's receiver waits with its key

    // A sweep now: the step moved a moment ago in this process; nothing is sent, the stages wait.
    const first = await recoverJobs(l.lab.control, l.relay, logger);
    expect(first.enqueued).toBe(0);
    expect(l.relay.sent.some((m) => m.key === `${jobId}.out_social` || m.key === `${jobId}.list_social`)).toBe(false);
    const stages = await l.lab.control.kysely.selectFrom('job_stage').select(['stage_id', 'state', 'result']).where('job_id', '=', jobId).orderBy('stage_id').execute();
    expect(stages.map((s) => [s.stage_id, s.state])).toEqual([['list_social', 'queued'], ['out_social', 'queued'], ['psi~emp_unreg', 'running']]);
    expect(stages[2]?.result).toMatchObject({ kind: 'psi-step', run: 0, phase: 'sender', receiverItems: expect.any(Number) });

    // The step has not moved for longer than the stall time: the next sweep restarts it.
    await l.lab.control.kysely.updateTable('job_stage')
      .set((eb) => ({ result: eb.fn('jsonb_set', [eb.ref('result'), eb.val('{updatedAt}'), eb.val('2000-01-01T00:00:00.000Z')]) }))
      .where('job_id', '=', jobId).where('stage_id', '=', 'psi~emp_unreg').execute();
    const second = await recoverJobs(l.lab.control, l.relay, logger);
    expect(second.enqueued).toBe(1);
    const analyst = await l.signIn('analyst');
    expect(await waitForJob(analyst, jobId, 180_000)).toMatchObject({ state: 'succeeded' });
    const step = await l.lab.control.kysely.selectFrom('job_stage').select(['result']).where('job_id', '=', jobId).where('stage_id', '=', 'psi~emp_unreg').executeTakeFirstOrThrow();
    expect(step.result).toMatchObject({ kind: 'psi-step', run: 1, phase: 'done' });
    const audit = await l.lab.control.kysely.selectFrom('audit_entry').select(['action', 'detail']).where('resource_id', '=', jobId).where('action', 'like', 'job.step.%').orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['job.step.start', 'job.step.restart', 'job.step.end']);
    expect(audit.find((a) => a.action === 'job.step.restart')?.detail).toMatchObject({ run: 1, after: 'sender', code: 'recovery' });

    // The members are right: the list equals the truth's unregistered persons seen in employment.
    const steward = await l.signIn('steward.social');
    const { rows } = await (await steward.get(`/api/domains/social/follow-ups/${jobId}~list_social`)).json() as { rows: string[] };
    const truthIds = new Set(l.truth.s4a.idNumbers);
    const seen = await l.domains.social.readOnlyQuery<{ id: string }>("SELECT DISTINCT id_number AS id FROM employment WHERE end_date IS NULL OR end_date > DATE '2025-06-30'", [], { timeoutMs: 30_000 });
    expect(rows.sort()).toEqual(seen.map((r) => r.id).filter((id) => truthIds.has(id)).sort());
    // Run 0's receiver key, stranded by the lost delivery, was wiped at the job's end.
    for (let i = 0; i < 100 && heldPsiSessions() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(heldPsiSessions()).toBe(0);
    l.relay.tamper = undefined;
  });

  it('the receiver\u2019s worker restarts mid-protocol (its session and key gone): LAB-E163, the queue retries, then the step restarts from scratch and ends right', async () => {
    // Just before the receiver's last phase is delivered, its worker "restarts": every session it
    // held is wiped (what a new process would hold: nothing). Another worker of the domain would
    // answer the same way.
    let restarted = 0;
    l.relay.tamper = (m) => {
      const p = m.payload as Partial<PsiPayload>;
      if (p.type === 'psi' && p.phase === 'receiver-finish' && p.run === 0) { restarted++; void closeAllPsiSessions(); }
      return m;
    };
    const jobId = await runAsAnalyst(l, socialOnly);
    const analyst = await l.signIn('analyst');
    expect(await waitForJob(analyst, jobId, 180_000)).toMatchObject({ state: 'succeeded' });
    l.relay.tamper = undefined;
    expect(restarted).toBe(1);
    // The domain's answer after the queue's retries: a failed delivery naming LAB-E163.
    const failedDelivery = l.relay.heard.find((r) => r.key === `${jobId}.psi~emp_unreg.0-receiver-finish`);
    expect(failedDelivery).toMatchObject({ ok: false });
    expect(failedDelivery && !failedDelivery.ok ? failedDelivery.error : '').toMatch(/session|会话/);
    const audit = await l.lab.control.kysely.selectFrom('audit_entry').select(['action', 'detail']).where('resource_id', '=', jobId).where('action', 'like', 'job.step.%').orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['job.step.start', 'job.step.restart', 'job.step.end']);
    expect(audit[1]?.detail).toMatchObject({ run: 1, after: 'receiver-finish', code: 'LAB-E163' });
    const steward = await l.signIn('steward.social');
    const { rows } = await (await steward.get(`/api/domains/social/follow-ups/${jobId}~list_social`)).json() as { rows: string[] };
    const truthIds = new Set(l.truth.s4a.idNumbers);
    const seen = await l.domains.social.readOnlyQuery<{ id: string }>("SELECT DISTINCT id_number AS id FROM employment WHERE end_date IS NULL OR end_date > DATE '2025-06-30'", [], { timeoutMs: 30_000 });
    expect(rows.sort()).toEqual(seen.map((r) => r.id).filter((id) => truthIds.has(id)).sort());
    expect(heldPsiSessions()).toBe(0);
  });
});
