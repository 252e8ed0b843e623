import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { planPipeline, type DomainStage, type FollowUpStage } from '../../../sandbox/plan/planner.ts';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { followUpTable } from '../../../sandbox/runtime/worker/follow-up.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const s3 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s3-undeclared-rentals.json', import.meta.url), 'utf8')) as unknown;
const s4b = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s4b-registered-deceased.json', import.meta.url), 'utf8')) as unknown;

/**
 * S3 end to end through the HTTP API: undeclared rental houses (housing, in the domain) matched
 * with grid incident reports on the normalised address key by PSI; houses by district with the
 * total released to the analyst equal the staff guard applied to the ground truth; the follow-up
 * list in the housing domain equals the truth's house numbers exactly.
 */
describe('S3 data collision (undeclared rental houses with incident reports) and S4b (deceased, still registered)', () => {
  let served: ServedLab;
  let analyst: ApiClient;
  let jobId = '';
  let tables: { stageId: string; table: ReleasedTable }[] = [];
  const plan = () => {
    const v = validatePipeline(s3);
    if (!v.ok) throw new Error('invalid');
    return planPipeline(v.pipeline);
  };

  beforeAll(async () => {
    served = await startServedLab({ persons: 20_000, seed: 's3-psi', password: 's3-psi-password' });
    analyst = await served.signIn('analyst');
    const saved = await analyst.post('/api/pipelines', s3);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await analyst.post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const body = await run.json() as { jobId: string; state: string; approvalsRequired: number };
    jobId = body.jobId;
    if (body.state === 'awaiting_approval') {
      for (const o of ['officer', 'officer2'].slice(0, body.approvalsRequired)) expect((await (await served.signIn(o)).post(`/api/jobs/${jobId}/approve`, { note: 'S3' })).status).toBe(200);
    }
    const done = await waitForJob(analyst, jobId, 180_000);
    expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded' });
    tables = (await (await analyst.get(`/api/jobs/${jobId}/result`)).json() as { tables: { stageId: string; table: ReleasedTable }[] }).tables;
  }, 400_000);
  afterAll(async () => { await served?.close(); });

  it('released houses by district and total = the staff guard applied to the truth; the list count likewise', () => {
    const truth = served.truth.s3;
    expect(truth.total).toBeGreaterThan(50);
    const stage = plan().stages.find((s): s is DomainStage => s.kind === 'domain' && s.id === 'out');
    if (!stage) throw new Error('no stage');
    const rows: RawRow[] = [
      ...Object.entries(truth.byDistrict).map(([d, n]): RawRow => ({ district_code: d, __grouping: 0, __units: n, houses: n })),
      { district_code: null, __grouping: 1, __units: truth.total, houses: truth.total },
    ];
    expect(tables.find((t) => t.stageId === 'out')?.table).toEqual(guardForStaff(stage.table, rows, DEFAULT_STAFF_PARAMS));
    const list = plan().stages.find((s): s is FollowUpStage => s.kind === 'follow-up');
    if (!list) throw new Error('no list');
    expect(tables.find((t) => t.stageId === 'list_housing')?.table).toEqual(followUpTable(list, truth.total, DEFAULT_STAFF_PARAMS));
    expect(JSON.stringify(tables)).not.toMatch(/\d{17}[\dX]|-H\d{5}/);
  });

  it('the housing stewards read exactly the truth\u2019s houses; the grid steward and the analyst are refused', async () => {
    const steward = await served.signIn('steward.housing');
    const res = await steward.get(`/api/domains/housing/follow-ups/${jobId}~list_housing`);
    expect(res.status).toBe(200);
    const { list, rows } = await res.json() as { list: { unitKind: string; count: number }; rows: string[] };
    expect(list).toMatchObject({ unitKind: 'house', count: served.truth.s3.total });
    expect(rows.map(Number).sort((a, b) => a - b)).toEqual([...served.truth.s3.houseIds].sort((a, b) => a - b));
    const grid = await served.signIn('steward.grid');
    expect((await grid.get(`/api/domains/housing/follow-ups/${jobId}~list_housing`)).status).toBe(403);
    expect((await analyst.get(`/api/domains/housing/follow-ups`)).status).toBe(403);
    expect((await grid.get('/api/domains/grid/follow-ups')).status).toBe(200);
  });

  it('S4b (deceased, still registered): registry × civil.death by PSI; counts by district and total = the staff guard on the truth; the registry\u2019s list = the truth\u2019s deceased', async () => {
    const saved = await analyst.post('/api/pipelines', s4b);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await (await analyst.post(`/api/pipelines/${id}/runs`)).json() as { jobId: string; state: string; approvalsRequired: number };
    if (run.state === 'awaiting_approval') {
      for (const o of ['officer', 'officer2'].slice(0, run.approvalsRequired)) expect((await (await served.signIn(o)).post(`/api/jobs/${run.jobId}/approve`, { note: 'S4b' })).status).toBe(200);
    }
    const done = await waitForJob(analyst, run.jobId, 180_000);
    expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded' });
    const got = (await (await analyst.get(`/api/jobs/${run.jobId}/result`)).json() as { tables: { stageId: string; table: ReleasedTable }[] }).tables;
    const deceased = served.truth.s4b.byDistrictReason.filter(([, reason]) => reason === 'deceased');
    const total = deceased.reduce((a, [, , n]) => a + n, 0);
    expect(total).toBeGreaterThan(20);
    const v = validatePipeline(s4b);
    if (!v.ok) throw new Error('invalid');
    const p4 = planPipeline(v.pipeline);
    const stage = p4.stages.find((s): s is DomainStage => s.kind === 'domain');
    const list = p4.stages.find((s): s is FollowUpStage => s.kind === 'follow-up');
    if (!stage || !list) throw new Error('no stage');
    const rows: RawRow[] = [
      ...deceased.map(([d, , n]): RawRow => ({ district_code: d, __grouping: 0, __units: n, persons: n })),
      { district_code: null, __grouping: 1, __units: total, persons: total },
    ];
    expect(got.find((t) => t.stageId === 'out')?.table).toEqual(guardForStaff(stage.table, rows, DEFAULT_STAFF_PARAMS));
    expect(got.find((t) => t.stageId === 'list_registry')?.table).toEqual(followUpTable(list, total, DEFAULT_STAFF_PARAMS));
    // The list: the truth's S4b persons who have a death record (the truth lists both reasons).
    const dead = new Set((await served.domains.civil.readOnlyQuery<{ id: string }>('SELECT DISTINCT id_number AS id FROM death', [], { timeoutMs: 30_000 })).map((r) => r.id));
    const want = served.truth.s4b.idNumbers.filter((x) => dead.has(x)).sort();
    expect(want.length).toBe(total);
    const steward = await served.signIn('steward.registry');
    const res = await steward.get(`/api/domains/registry/follow-ups/${run.jobId}~list_registry`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rows: string[] }).rows.sort()).toEqual(want);
    expect((await (await served.signIn('steward.civil')).get(`/api/domains/registry/follow-ups/${run.jobId}~list_registry`)).status).toBe(403);
  });

  it('a researcher cannot run a pipeline with a follow-up list (LAB-E165 on the node, nothing queued)', async () => {
    const researcher = await served.signIn('researcher');
    const saved = await researcher.post('/api/pipelines', s4b);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const res = await researcher.post(`/api/pipelines/${id}/runs`);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'LAB-E165', nodeId: 'list_registry' });
  });

  it('chained steps: S4b\u2019s deceased, then those never employed (a second step whose receiver side reads the first step\u2019s members) = the truth minus social\u2019s ID numbers', async () => {
    const base = s4b as { nodes: { id: string }[] } & Record<string, unknown>;
    const doc = {
      ...base, name: 'deceased, never employed',
      nodes: [
        ...base.nodes.filter((n) => n.id !== 'by_district' && n.id !== 'out' && n.id !== 'list_registry'),
        { id: 'jobs', op: 'source@1', params: { dataset: 'social.employment' } },
        { id: 'never_employed', op: 'join@1', inputs: { left: 'deceased', right: 'jobs' }, params: { type: 'anti', leftKey: 'id_number', rightKey: 'id_number' } },
        { id: 'list', op: 'follow-up@1', inputs: { rows: 'never_employed' }, params: { title: 'deceased, never employed' } },
      ],
    };
    const saved = await analyst.post('/api/pipelines', doc);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await (await analyst.post(`/api/pipelines/${id}/runs`)).json() as { jobId: string; state: string; approvalsRequired: number };
    if (run.state === 'awaiting_approval') {
      for (const o of ['officer', 'officer2'].slice(0, run.approvalsRequired)) expect((await (await served.signIn(o)).post(`/api/jobs/${run.jobId}/approve`, { note: 'chain' })).status).toBe(200);
    }
    const done = await waitForJob(analyst, run.jobId, 180_000);
    expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded' });
    const dead = new Set((await served.domains.civil.readOnlyQuery<{ id: string }>('SELECT DISTINCT id_number AS id FROM death', [], { timeoutMs: 30_000 })).map((r) => r.id));
    const employed = new Set((await served.domains.social.readOnlyQuery<{ id: string }>('SELECT DISTINCT id_number AS id FROM employment', [], { timeoutMs: 30_000 })).map((r) => r.id));
    const want = served.truth.s4b.idNumbers.filter((x) => dead.has(x) && !employed.has(x)).sort();
    expect(want.length).toBeGreaterThan(10);
    const steward = await served.signIn('steward.registry');
    const { rows } = await (await steward.get(`/api/domains/registry/follow-ups/${run.jobId}~list`)).json() as { rows: string[] };
    expect(rows.sort()).toEqual(want);
  });
});
