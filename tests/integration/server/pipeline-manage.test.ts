import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

interface PipelineItem { id: string; name: string; jobs: number }

/**
 * Renaming and deleting saved pipelines on the real HTTP API (PATCH / DELETE /api/pipelines/{id},
 * Cedar pipeline.rename / pipeline.delete: the owner). Others' pipelines are in the authorisation
 * matrix (404 for everyone else). A pipeline with jobs is kept, hidden, and its jobs stay readable.
 */
describe('rename and delete pipelines', () => {
  const password = 'manage-password-0';
  let served: ServedLab;
  let analyst: ApiClient;
  const send = (method: 'PATCH' | 'DELETE', path: string, body?: unknown) => {
    if (!analyst.send) throw new Error('client without send');
    return analyst.send(method, path, body);
  };
  const save = async (doc: unknown) => {
    const res = await analyst.post('/api/pipelines', doc);
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const list = async () => ((await (await analyst.get('/api/pipelines')).json()) as { pipelines: PipelineItem[] }).pipelines;
  const audit = (id: string) => served.lab.control.kysely.selectFrom('audit_entry').select(['action', 'actor_username', 'pipeline_hash', 'detail']).where('resource_id', '=', id).where('action', 'in', ['pipeline.rename', 'pipeline.delete']).orderBy('seq').execute();

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 'manage', password });
    analyst = await served.signIn('analyst');
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  it('renames: the list, the document and its hash follow; audited with both names', async () => {
    const id = await save({ ...example('s6-registry-new-inflow'), name: '旧名字' });
    const before = await (await analyst.get(`/api/pipelines/${id}`)).json() as { specHash: string };
    const res = await send('PATCH', `/api/pipelines/${id}`, { name: '  新名字  ' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, name: '新名字' });
    expect((await list()).find((p) => p.id === id)?.name).toBe('新名字');
    const after = await (await analyst.get(`/api/pipelines/${id}`)).json() as { name: string; specHash: string; spec: { name: string } };
    expect(after).toMatchObject({ name: '新名字', spec: { name: '新名字' } });
    expect(after.specHash).not.toBe(before.specHash);
    expect(await audit(id)).toEqual([{ action: 'pipeline.rename', actor_username: 'analyst', pipeline_hash: after.specHash, detail: { from: '旧名字', to: '新名字' } }]);
  });

  it('refuses an empty or overlong name, and unknown fields (422 LAB-E003, nothing changed)', async () => {
    const id = await save({ ...example('s6-registry-new-inflow'), name: '保持不变' });
    for (const body of [{ name: '   ' }, { name: 'x'.repeat(201) }, { name: 'ok', owner: 1 }, {}]) {
      const res = await send('PATCH', `/api/pipelines/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(((await res.json()) as { code: string }).code).toBe('LAB-E003');
    }
    expect((await list()).find((p) => p.id === id)?.name).toBe('保持不变');
    expect(await audit(id)).toEqual([]);
  });

  it('deletes a pipeline that never ran: gone from the list and the database', async () => {
    const id = await save({ ...example('s6-registry-new-inflow'), name: '从未运行' });
    const res = await send('DELETE', `/api/pipelines/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id, kept: false });
    expect((await list()).some((p) => p.id === id)).toBe(false);
    expect(await served.lab.control.kysely.selectFrom('pipeline').select('id').where('id', '=', id).execute()).toEqual([]);
    expect((await analyst.get(`/api/pipelines/${id}`)).status).toBe(404);
    expect((await audit(id)).map((a) => [a.action, a.detail])).toEqual([['pipeline.delete', { name: '从未运行', kept: false }]]);
  });

  it('a pipeline with jobs is kept hidden: not listed, opened, renamed, run or deleted again; its job stays readable', async () => {
    const id = await save({ ...example('s6-registry-new-inflow'), name: '跑过的流程' });
    const jobId = ((await (await analyst.post(`/api/pipelines/${id}/runs`)).json()) as { jobId: string }).jobId;
    expect(await waitForJob(analyst, jobId)).toMatchObject({ state: 'succeeded' });
    const res = await send('DELETE', `/api/pipelines/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id, kept: true });
    expect((await list()).some((p) => p.id === id)).toBe(false);
    const row = await served.lab.control.kysely.selectFrom('pipeline').select(['id', 'deleted_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect((await analyst.get(`/api/pipelines/${id}`)).status).toBe(404);
    expect((await send('PATCH', `/api/pipelines/${id}`, { name: 'again' })).status).toBe(404);
    expect((await analyst.post(`/api/pipelines/${id}/runs`)).status).toBe(404);
    expect((await send('DELETE', `/api/pipelines/${id}`)).status).toBe(404);
    expect((await analyst.get(`/api/jobs/${jobId}`)).status).toBe(200);
    expect((await analyst.get(`/api/jobs/${jobId}/result`)).status).toBe(200);
    const jobs = ((await (await analyst.get('/api/jobs')).json()) as { jobs: { id: string; pipelineName: string | null }[] }).jobs;
    expect(jobs.find((j) => j.id === jobId)?.pipelineName).toBe('跑过的流程');
    expect((await audit(id)).map((a) => [a.action, a.detail])).toEqual([['pipeline.delete', { name: '跑过的流程', kept: true }]]);
  });
});
