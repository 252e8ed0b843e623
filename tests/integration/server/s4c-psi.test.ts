import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { planPipeline, type DomainStage, type FollowUpStage } from '../../../sandbox/plan/planner.ts';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { followUpTable } from '../../../sandbox/runtime/worker/follow-up.ts';
import { heldPsiSessions } from '../../../sandbox/runtime/worker/psi-step.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const s4c = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s4c-household-separation.json', import.meta.url), 'utf8')) as unknown;

/**
 * S4c end to end through the HTTP API: the registry's active locals matched by five PSI steps
 * against housing (active tenancies: on the ID number, then on ID number ‖ house district) and grid
 * (visits in W: on the ID number, then on ID number ‖ visit district). The counts by registered
 * district with the total equal the staff guard applied to the ground truth; the registry's list
 * equals the truth's ID numbers exactly.
 */
describe('S4c suspected household separation: PSI on ID number and on ID number ‖ district', () => {
  let served: ServedLab;
  let analyst: ApiClient;
  let jobId = '';
  let tables: { stageId: string; table: ReleasedTable }[] = [];
  const plan = () => {
    const v = validatePipeline(s4c);
    if (!v.ok) throw new Error('invalid');
    return planPipeline(v.pipeline);
  };

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 's4c-psi', password: 's4c-psi-password' });
    analyst = await served.signIn('analyst');
    const saved = await analyst.post('/api/pipelines', s4c);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await analyst.post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const body = await run.json() as { jobId: string; state: string; approvalsRequired: number };
    jobId = body.jobId;
    if (body.state === 'awaiting_approval') {
      for (const o of ['officer', 'officer2'].slice(0, body.approvalsRequired)) expect((await (await served.signIn(o)).post(`/api/jobs/${jobId}/approve`, { note: 'S4c' })).status).toBe(200);
    }
    const done = await waitForJob(analyst, jobId, 240_000);
    expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded' });
    tables = (await (await analyst.get(`/api/jobs/${jobId}/result`)).json() as { tables: { stageId: string; table: ReleasedTable }[] }).tables;
  }, 400_000);
  afterAll(async () => { await served?.close(); });

  it('plans five membership steps, two of them on the ID number ‖ district item; all received by the registry', () => {
    const steps = plan().stages.filter((s) => s.kind === 'protocol');
    expect(steps.map((s) => s.id).sort()).toEqual(['psi~not_renting', 'psi~rent_elsewhere', 'psi~renting', 'psi~visit_elsewhere', 'psi~visited']);
    for (const s of steps) expect(s.receiver).toBe('registry');
    const composite = steps.filter((s) => s.kind === 'protocol' && s.receiverAlso);
    expect(composite.map((s) => s.kind === 'protocol' && [s.id, s.receiverAlso, s.senderAlso])).toEqual([
      ['psi~rent_elsewhere', ['district_code'], ['house_district_code']],
      ['psi~visit_elsewhere', ['district_code'], ['district_code']],
    ]);
  });

  it('released counts by registered district = the staff guard applied to the truth; the list count likewise', () => {
    const truth = served.truth.s4c;
    expect(truth.total).toBeGreaterThan(50);
    expect(Object.keys(truth.byDistrict).length).toBeGreaterThan(3);
    const stage = plan().stages.find((s): s is DomainStage => s.kind === 'domain' && s.id === 'out');
    const list = plan().stages.find((s): s is FollowUpStage => s.kind === 'follow-up');
    if (!stage || !list) throw new Error('no stage');
    // No total row: after the union the district is not known to be one per person, so it is not rolled up.
    const rows: RawRow[] = Object.entries(truth.byDistrict).map(([d, n]): RawRow => ({ district_code: d, __grouping: 0, __units: n, persons: n }));
    expect(tables.map((t) => t.stageId).sort()).toEqual(['list_registry', 'out']);
    expect(tables.find((t) => t.stageId === 'out')?.table).toEqual(guardForStaff(stage.table, rows, DEFAULT_STAFF_PARAMS));
    expect(tables.find((t) => t.stageId === 'list_registry')?.table).toEqual(followUpTable(list, truth.total, DEFAULT_STAFF_PARAMS));
    expect(JSON.stringify(tables)).not.toMatch(/\d{17}[\dX]|psi~|\|/);
  });

  it('the registry stewards read exactly the truth\u2019s persons; the housing and grid stewards and the analyst are refused', async () => {
    const steward = await served.signIn('steward.registry');
    const res = await steward.get(`/api/domains/registry/follow-ups/${jobId}~list_registry`);
    expect(res.status).toBe(200);
    const { list, rows } = await res.json() as { list: { unitKind: string; count: number }; rows: string[] };
    expect(list).toMatchObject({ unitKind: 'person', count: served.truth.s4c.total });
    expect(rows.sort()).toEqual([...served.truth.s4c.idNumbers].sort());
    for (const u of ['steward.housing', 'steward.grid']) {
      expect((await (await served.signIn(u)).get(`/api/domains/registry/follow-ups/${jobId}~list_registry`)).status).toBe(403);
    }
    expect((await analyst.get(`/api/domains/registry/follow-ups/${jobId}~list_registry`)).status).toBe(403);
  });

  it('no members, no session left; the audit has five steps with sizes only, the composite items never', async () => {
    for (let i = 0; i < 100; i++) {
      const n = (await served.domains.registry.readOnlyQuery<{ n: string }>('SELECT count(*)::text AS n FROM lab_psi_member', [], { timeoutMs: 10_000 }))[0]?.n;
      if (n === '0') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await served.domains.registry.readOnlyQuery<{ n: string }>('SELECT count(*)::text AS n FROM lab_psi_member', [], { timeoutMs: 10_000 }))[0]?.n).toBe('0');
    expect(heldPsiSessions()).toBe(0);
    const audit = await served.lab.control.readOnlyQuery<{ action: string; detail: unknown }>(
      "SELECT action, detail FROM audit_entry WHERE resource_id = $1 AND action LIKE 'job.step.%' ORDER BY seq", [jobId], { timeoutMs: 10_000 });
    const ends = audit.filter((a) => a.action === 'job.step.end');
    expect(ends).toHaveLength(5);
    for (const e of ends) expect(e.detail).toMatchObject({ keysWiped: true, receiverItems: expect.any(Number), senderItems: expect.any(Number) });
    expect(JSON.stringify(audit)).not.toMatch(/\d{17}[\dX]/);
  });
});
