import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../server/services/user.service.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

interface PipelineItem { id: string; name: string; jobs: number; lastRunAt: string | null; updatedAt: string }
interface JobItem { id: string; pipelineId: string; pipelineName: string | null; owner: string; own: boolean; state: string; domains: string[] }

/**
 * The workspace's lists on the real HTTP API: GET /api/pipelines (mine), GET /api/pipelines/{id}
 * (mine, with the document; others 404), GET /api/jobs (mine; officers everyone's, by policy).
 */
describe('pipeline and job lists', () => {
  const password = 'lists-password-0';
  let served: ServedLab;
  let analyst: ApiClient;
  let other: ApiClient;
  let officer: ApiClient;
  let steward: ApiClient;
  let mine = '';
  let theirs = '';
  let myJob = '';
  let theirJob = '';

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 'lists', password });
    await createUser(served.lab.control, { username: 'analyst.other', displayName: '另一位分析员', role: 'analyst', password });
    analyst = await served.signIn('analyst');
    other = await served.signIn('analyst.other');
    officer = await served.signIn('officer');
    steward = await served.signIn('steward.registry');
    const save = async (api: ApiClient, doc: unknown) => {
      const res = await api.post('/api/pipelines', doc);
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    mine = await save(analyst, { ...example('s6-registry-new-inflow'), name: '我的新增流入' });
    await save(analyst, { ...example('s1-population-rollup'), name: '我的逐级汇总' });
    theirs = await save(other, { ...example('s6-registry-new-inflow'), name: '别人的流程' });
    myJob = ((await (await analyst.post(`/api/pipelines/${mine}/runs`)).json()) as { jobId: string }).jobId;
    theirJob = ((await (await other.post(`/api/pipelines/${theirs}/runs`)).json()) as { jobId: string }).jobId;
    expect(await waitForJob(analyst, myJob)).toMatchObject({ state: 'succeeded' });
    expect(await waitForJob(other, theirJob)).toMatchObject({ state: 'succeeded' });
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  it('lists only my pipelines, newest change first, with their job counts', async () => {
    const res = await analyst.get('/api/pipelines');
    expect(res.status).toBe(200);
    const { pipelines } = await res.json() as { pipelines: PipelineItem[] };
    expect(pipelines.map((p) => p.name)).toEqual(['我的逐级汇总', '我的新增流入']);
    const inflow = pipelines.find((p) => p.id === mine);
    expect(inflow).toMatchObject({ jobs: 1 });
    expect(inflow?.lastRunAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(pipelines.find((p) => p.name === '我的逐级汇总')).toMatchObject({ jobs: 0, lastRunAt: null });
    expect(pipelines.some((p) => p.id === theirs)).toBe(false);
  });

  it('stewards keep no pipelines: 403 LAB-E137', async () => {
    const res = await steward.get('/api/pipelines');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'LAB-E137' });
  });

  it('opens my pipeline with its document; someone else’s is 404 (existence not confirmed)', async () => {
    const res = await analyst.get(`/api/pipelines/${mine}`);
    expect(res.status).toBe(200);
    const p = await res.json() as { name: string; spec: { name: string; nodes: { id: string }[] } };
    expect(p.name).toBe('我的新增流入');
    expect(p.spec.name).toBe('我的新增流入');
    expect(p.spec.nodes.length).toBeGreaterThan(1);
    for (const api of [analyst, officer]) {
      const r = await api.get(`/api/pipelines/${theirs}`);
      expect(r.status).toBe(404);
      expect(await r.json()).toMatchObject({ code: 'LAB-E004' });
    }
  });

  it('lists my jobs only for an analyst, every job for an officer, none for a steward', async () => {
    const mineList = (await (await analyst.get('/api/jobs')).json() as { jobs: JobItem[] }).jobs;
    expect(mineList.map((j) => j.id)).toEqual([myJob]);
    expect(mineList[0]).toMatchObject({ pipelineId: mine, pipelineName: '我的新增流入', own: true, state: 'succeeded', domains: ['registry'] });

    const officerList = (await (await officer.get('/api/jobs')).json() as { jobs: JobItem[] }).jobs;
    expect(officerList.map((j) => j.id).sort()).toEqual([myJob, theirJob].sort());
    expect(officerList.find((j) => j.id === theirJob)).toMatchObject({ owner: '另一位分析员', own: false });
    // Newest first.
    expect(officerList[0]?.id).toBe(theirJob);

    const stewardRes = await steward.get('/api/jobs');
    expect(stewardRes.status).toBe(200);
    expect((await stewardRes.json() as { jobs: JobItem[] }).jobs).toEqual([]);
  });

  it('a job list carries no results and no documents', async () => {
    const text = await (await officer.get('/api/jobs')).text();
    expect(text).not.toContain('"rows"');
    expect(text).not.toContain('"nodes"');
    expect(text).not.toContain('"spec"');
  });
});
