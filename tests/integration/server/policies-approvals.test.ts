import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBundle } from '../../../policies/bundle.ts';
import { budgetRepository } from '../../../server/repositories/budget.repository.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import type { TestLab } from '../../support/pg-lab.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const s1 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as { nodes: { id: string; op: string; params: Record<string, unknown>; inputs?: Record<string, string> }[] } & Record<string, unknown>;

/** S1 with a filter on the ID number: reads a core-sensitive (L4) column. */
function s1WithIdFilter(name: string) {
  const doc = structuredClone(s1);
  doc['name'] = name;
  const active = doc.nodes.find((n) => n.id === 'active');
  if (!active) throw new Error('S1 changed');
  active.params['condition'] = "status = 'active' AND NOT ends_with(id_number, 'X')";
  return doc;
}

interface Job { state: string; approvalsRequired: number; policyVersion: number; error: unknown; reviewState: string | null; approvals: { officer: string; decision: string }[] }

describe('policies, approvals and budgets through the API', () => {
  let served: ServedLab;
  let lab: TestLab;
  let analyst: ApiClient;
  let officer: ApiClient;
  let officer2: ApiClient;
  let researcher: ApiClient;
  let admin: ApiClient;

  const save = async (api: ApiClient, doc: unknown) => {
    const r = await api.post('/api/pipelines', doc);
    expect(r.status).toBe(201);
    return (await r.json() as { id: string }).id;
  };
  const run = async (api: ApiClient, pipelineId: string, body?: unknown) => {
    const r = await api.post(`/api/pipelines/${pipelineId}/runs`, body);
    return { status: r.status, body: await r.json() as { jobId: string; state: string; approvalsRequired: number; code?: string } };
  };
  const job = async (api: ApiClient, id: string) => (await (await api.get(`/api/jobs/${id}`)).json()) as Job;

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 'policies', password: 'policy-test-password' });
    lab = served.lab;
    [analyst, officer, officer2, researcher, admin] = await Promise.all(['analyst', 'officer', 'officer2', 'researcher', 'admin'].map((u) => served.signIn(u))) as [ApiClient, ApiClient, ApiClient, ApiClient, ApiClient];
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  it('a staff run within policy is allowed at once and records the policy version that decided it', async () => {
    const id = await save(analyst, s1);
    const r = await run(analyst, id);
    expect(r).toMatchObject({ status: 202, body: { state: 'queued', approvalsRequired: 0 } });
    expect(await waitForJob(analyst, r.body.jobId)).toMatchObject({ state: 'succeeded' });
    expect(await job(analyst, r.body.jobId)).toMatchObject({ policyVersion: 1, approvalsRequired: 0, reviewState: null });
  });

  it('core-sensitive inputs need two different officers; never the requester, never the same officer twice', async () => {
    const id = await save(officer, s1WithIdFilter('L4 by an officer'));
    const r = await run(officer, id);
    expect(r.body).toMatchObject({ state: 'awaiting_approval', approvalsRequired: 2 });
    const jobId = r.body.jobId;
    // The requester cannot approve their own job, even as an officer.
    const self = await officer.post(`/api/jobs/${jobId}/approve`, {});
    expect(self.status).toBe(403);
    expect(await self.json()).toMatchObject({ code: 'LAB-E133' });
    // An analyst cannot approve, nor learn that someone else's job exists.
    expect((await analyst.post(`/api/jobs/${jobId}/approve`, {})).status).toBe(404);
    expect((await analyst.get(`/api/jobs/${jobId}`)).status).toBe(404);
    // The job waits and nothing runs.
    expect((await job(officer, jobId)).state).toBe('awaiting_approval');
    const first = await officer2.post(`/api/jobs/${jobId}/approve`, { note: 'ok for the district report' });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ state: 'awaiting_approval', approvals: 1, approvalsRequired: 2 });
    const again = await officer2.post(`/api/jobs/${jobId}/approve`, {});
    expect(again.status).toBe(409);
    expect((await job(officer, jobId)).state).toBe('awaiting_approval');
    expect((await officer.get(`/api/jobs/${jobId}/result`)).status).toBe(409);
  });

  it('an analyst’s L4 run: the inbox lists it; two officers approve; it runs once and is released', async () => {
    const id = await save(analyst, s1WithIdFilter('L4 by an analyst'));
    const { body } = await run(analyst, id);
    expect(body).toMatchObject({ state: 'awaiting_approval', approvalsRequired: 2 });
    const inbox = await (await officer.get('/api/approvals')).json() as { approvals: { jobId: string; maxLevel: number; requester: string }[] };
    expect(inbox.approvals.find((a) => a.jobId === body.jobId)).toMatchObject({ maxLevel: 4, requester: '业务人员（演示）' });
    // The officer sees what they approve: the exact document the job runs.
    const seen = await (await officer.get(`/api/jobs/${body.jobId}`)).json() as { pipeline: { name: string } };
    expect(seen.pipeline.name).toBe('L4 by an analyst');
    expect((await analyst.get('/api/approvals')).status).toBe(403);
    const [a, b] = await Promise.all([officer.post(`/api/jobs/${body.jobId}/approve`, {}), officer2.post(`/api/jobs/${body.jobId}/approve`, {})]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await waitForJob(analyst, body.jobId)).toMatchObject({ state: 'succeeded' });
    const j = await job(analyst, body.jobId);
    expect(j.approvals.map((x) => x.decision)).toEqual(['approve', 'approve']);
    expect((await analyst.get(`/api/jobs/${body.jobId}/result`)).status).toBe(200);
  });

  it('a rejection needs a reason, which the requester sees; the job never runs', async () => {
    const id = await save(analyst, s1WithIdFilter('to be rejected'));
    const { body } = await run(analyst, id);
    const empty = await officer.post(`/api/jobs/${body.jobId}/reject`, { reason: '  ' });
    expect(empty.status).toBe(422);
    expect(await empty.json()).toMatchObject({ code: 'LAB-E135', field: 'reason' });
    expect((await officer.post(`/api/jobs/${body.jobId}/reject`, { reason: '身份证号筛选无必要' })).status).toBe(200);
    const j = await job(analyst, body.jobId);
    expect(j.state).toBe('rejected');
    expect(JSON.stringify(j.error)).toContain('身份证号筛选无必要');
    expect((await officer2.post(`/api/jobs/${body.jobId}/approve`, {})).status).toBe(409);
  });

  it('a researcher may not see their output before an officer releases it (and an officer reads it only to review it)', async () => {
    const id = await save(researcher, s1);
    const { status, body } = await run(researcher, id);
    expect(status).toBe(202);
    expect(body).toMatchObject({ state: 'awaiting_approval', approvalsRequired: 1 });
    expect((await researcher.get(`/api/jobs/${body.jobId}/result`)).status).toBe(409);
    expect((await officer.post(`/api/jobs/${body.jobId}/approve`, {})).status).toBe(200);
    const done = await waitForJob(researcher, body.jobId);
    if (done.state === 'succeeded') {
      expect((await job(researcher, body.jobId)).reviewState).toBe('pending');
      expect((await researcher.get(`/api/jobs/${body.jobId}/result`)).status).toBe(409);
      expect((await officer.get(`/api/jobs/${body.jobId}/result`)).status).toBe(200);
    } else {
      expect(JSON.stringify(done.error)).toMatch(/LAB-E(065|120)/);
      expect((await researcher.get(`/api/jobs/${body.jobId}/result`)).status).toBe(409);
    }
  });

  it('a policy edit: validated with line and column, stale edits refused, only officers; a new version voids pending approvals', async () => {
    const current = await (await officer.get('/api/policies/current')).json() as { version: number; cedar: string; params: unknown };
    expect(current.version).toBe(1);
    expect((await analyst.get('/api/policies/current')).status).toBe(403);
    expect((await admin.get('/api/policies/current')).status).toBe(200);
    expect((await admin.post('/api/policies', { cedar: current.cedar, params: current.params, baseVersion: 1 })).status).toBe(403);

    const broken = current.cedar.replace('resource.maxLevel <= 3 ||', 'resource.maxLevl <= 3 ||');
    const lineOfTypo = broken.split('\n').findIndex((l) => l.includes('maxLevl')) + 1;
    const bad = await officer.post('/api/policies', { cedar: broken, params: current.params, baseVersion: 1 });
    expect(bad.status).toBe(422);
    const problems = await bad.json() as { code: string; problems: { line: number; column: number; policyId: string }[] };
    expect(problems.code).toBe('LAB-E130');
    expect(problems.problems[0]).toMatchObject({ line: lineOfTypo, policyId: 'staff-run' });
    const badParams = await officer.post('/api/policies/check', { cedar: current.cedar, params: { ...defaultBundle().params, staff: { ...defaultBundle().params.staff, threshold: 1 } } });
    expect(badParams.status).toBe(422);
    expect((await (await officer.get('/api/policies')).json() as { versions: unknown[] }).versions).toHaveLength(1);

    // A job decided under v1 waits for approval …
    const id = await save(analyst, s1WithIdFilter('voided by a policy change'));
    const { body } = await run(analyst, id);
    expect(body.state).toBe('awaiting_approval');
    // … the officers raise the staff threshold (a new version) …
    const params = { ...defaultBundle().params, staff: { ...defaultBundle().params.staff, threshold: 9 } };
    const saved = await officer.post('/api/policies', { cedar: current.cedar, params, baseVersion: 1, comment: 'threshold 9' });
    expect(saved.status).toBe(201);
    expect(await saved.json()).toMatchObject({ version: 2 });
    const stale = await officer2.post('/api/policies', { cedar: current.cedar, params, baseVersion: 1 });
    expect(stale.status).toBe(409);
    // … and the approval given now is void: the run must be submitted again under v2.
    const approve = await officer2.post(`/api/jobs/${body.jobId}/approve`, {});
    expect(approve.status).toBe(409);
    expect(await approve.json()).toMatchObject({ code: 'LAB-E132' });
    expect((await job(analyst, body.jobId)).state).toBe('rejected');
    const again = await run(analyst, id);
    expect(again.body.state).toBe('awaiting_approval');
    expect((await job(analyst, again.body.jobId)).policyVersion).toBe(2);
  });

  it('the ε ledger never overspends under concurrent charges, and charges a job once', async () => {
    const { kysely } = lab.control;
    const user = await kysely.selectFrom('app_user').select('id').where('username', '=', 'researcher').executeTakeFirstOrThrow();
    await budgetRepository.ensureProject(kysely, 'ledger-test', 'ledger test');
    await budgetRepository.grant(kysely, { projectId: 'ledger-test', userId: user.id, total: '3' });
    const pipeline = await kysely.selectFrom('pipeline').select('id').limit(1).executeTakeFirstOrThrow();
    const ids = Array.from({ length: 20 }, (_, i) => `ledger-job-${i}`);
    await kysely.insertInto('job').values(ids.map((id) => ({ id, pipeline_id: pipeline.id, owner_id: user.id, spec: '{}', spec_hash: 'x', state: 'queued' as const }))).execute();
    const results = await Promise.all(ids.map((jobId) => budgetRepository.charge(kysely, { jobId, userId: user.id, projectId: 'ledger-test', epsilon: '0.5' })));
    expect(results.filter(Boolean)).toHaveLength(6);
    const [budget] = (await budgetRepository.budgetsOf(kysely, user.id)).filter((b) => b.project_id === 'ledger-test');
    expect(Number(budget?.spent)).toBe(3);
    // A repeated dispatch of a charged job charges nothing more (and is not refused).
    const charged = ids[results.indexOf(true)] ?? '';
    expect(await budgetRepository.charge(kysely, { jobId: charged, userId: user.id, projectId: 'ledger-test', epsilon: '0.5' })).toBe(true);
    expect((await budgetRepository.charges(kysely, user.id, 'ledger-test'))).toHaveLength(6);
  });

  it('every approval, rejection, voided approval and policy edit is in the audit trail, and the chain verifies', async () => {
    const entries: { action: string; actor: { username: string | null }; policyVersion: string | null; resource: { id: string | null } }[] = [];
    for (let from = 1; ;) {
      const page = await (await officer.get(`/api/audit?from=${from}&limit=500`)).json() as { entries: typeof entries; headSeq: number };
      entries.push(...page.entries);
      if (page.entries.length === 0 || entries.length >= page.headSeq) break;
      from = (page.entries[page.entries.length - 1] as unknown as { seq: number }).seq + 1;
    }
    const actions = entries.map((e) => e.action);
    for (const a of ['policy.install-default', 'approval.grant', 'approval.reject', 'approval.void', 'policy.edit']) expect(actions, a).toContain(a);
    const grants = entries.filter((e) => e.action === 'approval.grant');
    expect(grants.every((g) => g.actor.username === 'officer' || g.actor.username === 'officer2')).toBe(true);
    expect(entries.find((e) => e.action === 'policy.edit')).toMatchObject({ resource: { id: '2' }, policyVersion: '1' });
    const verify = await (await officer.get('/api/audit/verify')).json() as { ok: boolean };
    expect(verify.ok).toBe(true);
  });
});
