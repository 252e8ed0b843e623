import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroundTruth } from '../../../sandbox/domains/generator/ground-truth.ts';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const s7 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s7-floating-age-structure.json', import.meta.url), 'utf8')) as unknown;

/**
 * S7 end to end (DESIGN §1): a researcher's study of the floating population's age structure by
 * district — approval by an officer, differential privacy inside the registry domain, ε charged
 * to the project, output review, release; and the budget refusing once it is spent.
 */
describe('S7: the researcher study, from approval to release, with noise and a budget', () => {
  let served: ServedLab;
  let truth: GroundTruth;
  let researcher: ApiClient;
  let officer: ApiClient;
  let analyst: ApiClient;

  beforeAll(async () => {
    served = await startServedLab({ persons: 20_000, seed: 's7', password: 's7-researcher-password' });
    truth = served.truth;
    [researcher, officer, analyst] = await Promise.all(['researcher', 'officer', 'analyst'].map((u) => served.signIn(u))) as [ApiClient, ApiClient, ApiClient];
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  const submit = async () => {
    const saved = await researcher.post('/api/pipelines', s7);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await researcher.post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const body = await run.json() as { jobId: string; state: string };
    expect(body.state).toBe('awaiting_approval');
    return body.jobId;
  };
  const budget = async () => ((await (await researcher.get('/api/budgets')).json()) as { budgets: { projectId: string; total: string; spent: string; charges: unknown[] }[] }).budgets[0];

  it('approval → noise inside the domain → review → release; the released counts are near the truth and the ε is charged once', async () => {
    expect(await budget()).toMatchObject({ total: '3.000000', spent: '0.000000' });
    const jobId = await submit();
    expect((await officer.post(`/api/jobs/${jobId}/approve`, { note: 'S7 研究，已签署数据使用协议' })).status).toBe(200);
    expect(await waitForJob(researcher, jobId)).toMatchObject({ state: 'succeeded' });
    // Nothing reaches the researcher before the officer's review.
    expect((await researcher.get(`/api/jobs/${jobId}/result`)).status).toBe(409);
    const inbox = await (await officer.get('/api/approvals')).json() as { reviews: { jobId: string }[] };
    expect(inbox.reviews.map((r) => r.jobId)).toContain(jobId);
    const forReview = await (await officer.get(`/api/jobs/${jobId}/result`)).json() as { tables: { table: ReleasedTable }[] };
    const table = forReview.tables[0]?.table;
    expect(table?.guard).toMatchObject({ rule: 'researcher-dp', threshold: 10, dp: { mechanism: 'discrete-laplace', epsilon: '1' } });
    // Returning without a reason is refused; releasing needs none.
    expect((await officer.post(`/api/jobs/${jobId}/review`, { decision: 'returned' })).status).toBe(422);
    const self = await researcher.post(`/api/jobs/${jobId}/review`, { decision: 'released' });
    expect(self.status).toBe(403);
    expect(await self.json()).toMatchObject({ code: 'LAB-E133' });
    expect((await officer.post(`/api/jobs/${jobId}/review`, { decision: 'released' })).status).toBe(200);
    const res = await researcher.get(`/api/jobs/${jobId}/result`);
    expect(res.status).toBe(200);
    const released = (await res.json() as { tables: { table: ReleasedTable }[] }).tables[0]?.table;
    if (!released) throw new Error('no table');
    // Finest cells: district × band × sex. Laplace scale 1: |noise| ≤ 20 w.p. 1 − 2e-9 per cell; rounding adds ≤ 2.5.
    const names = released.columns.map((c) => c.name);
    const [di, bi, si] = ['district_code', 'age_band', 'sex'].map((n) => names.indexOf(n)) as [number, number, number];
    let compared = 0;
    for (const [district, band, sex, n] of truth.s7.cells) {
      const row = released.rows.find((r) => r.grouping === 0 && r.keys[di] === district && r.keys[bi] === band && r.keys[si] === sex);
      expect(row, `${district} ${band} ${sex}`).toBeDefined();
      if (!row || row.suppressed) { expect(n).toBeLessThan(10 + 21); continue; }
      expect(Math.abs((row.values[0] ?? 0) - n)).toBeLessThanOrEqual(23);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(50);
    expect(JSON.stringify(released)).not.toMatch(/\d{17}[\dX]/);
    const b = await budget();
    expect(b).toMatchObject({ spent: '1.000000' });
    expect(b?.charges).toHaveLength(1);
  });

  it('the budget is charged per job and a job that would overspend is refused before anything runs', async () => {
    for (let i = 0; i < 2; i++) {
      const jobId = await submit();
      await officer.post(`/api/jobs/${jobId}/approve`, {});
      expect(await waitForJob(researcher, jobId)).toMatchObject({ state: 'succeeded' });
    }
    expect(await budget()).toMatchObject({ spent: '3.000000' });
    const jobId = await submit();
    await officer.post(`/api/jobs/${jobId}/approve`, {});
    const done = await waitForJob(researcher, jobId);
    expect(done.state).toBe('failed');
    expect(JSON.stringify(done.error)).toContain('LAB-E136');
    expect(await budget()).toMatchObject({ spent: '3.000000' });
    // Its stages never ran: recorded as cancelled, not left queued.
    const stages = ((await (await researcher.get(`/api/jobs/${jobId}`)).json()) as { stages: { state: string }[] }).stages;
    expect(stages.map((s) => s.state)).toEqual(['cancelled']);
    expect((await researcher.get(`/api/jobs/${jobId}/result`)).status).toBe(409);
  });

  it('a returned output tells the researcher why, and still shows nothing of it', async () => {
    const { kysely } = served.lab.control;
    const user = await kysely.selectFrom('app_user').select('id').where('username', '=', 'researcher').executeTakeFirstOrThrow();
    await kysely.updateTable('dp_budget').set({ total: '4' }).where('user_id', '=', user.id).execute();
    const jobId = await submit();
    await officer.post(`/api/jobs/${jobId}/approve`, {});
    expect(await waitForJob(researcher, jobId)).toMatchObject({ state: 'succeeded' });
    expect((await officer.post(`/api/jobs/${jobId}/review`, { decision: 'returned', reason: '年龄段过细，请合并 80 岁以上' })).status).toBe(200);
    const job = await (await researcher.get(`/api/jobs/${jobId}`)).json() as { reviewState: string; reviewReason: string };
    expect(job).toMatchObject({ reviewState: 'returned', reviewReason: '年龄段过细，请合并 80 岁以上' });
    expect((await researcher.get(`/api/jobs/${jobId}/result`)).status).toBe(409);
  });

  it('an analyst has no budget to see, and cannot read a researcher’s job', async () => {
    expect(((await (await analyst.get('/api/budgets')).json()) as { budgets: unknown[] }).budgets).toEqual([]);
    const jobId = await submit();
    expect((await analyst.get(`/api/jobs/${jobId}`)).status).toBe(404);
  });
});
