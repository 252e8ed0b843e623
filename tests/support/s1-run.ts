import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { signIn, waitForJob } from './api-client.ts';

const s1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as unknown;

/**
 * The thin path, as the analyst's browser will drive it: save S1, run it, follow it over SSE,
 * read the released table. Returns the table for mode-specific checks.
 */
export async function runS1ThroughTheApi(baseUrl: string, password: string) {
  const api = await signIn(baseUrl, 'analyst', password);
  const saved = await api.post('/api/pipelines', s1);
  expect(saved.status).toBe(201);
  const { id } = await saved.json() as { id: string };
  const run = await api.post(`/api/pipelines/${id}/runs`);
  expect(run.status).toBe(202);
  const { jobId } = await run.json() as { jobId: string };
  const job = await waitForJob(api, jobId);
  expect(job).toMatchObject({ state: 'succeeded' });
  const events = await (await api.get(`/api/jobs/${jobId}/events`)).text();
  expect(events).toContain('event: state');
  expect(events).toContain('"state":"succeeded"');
  const lastId = [...events.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])).pop() ?? 0;
  const resumed = await (await api.get(`/api/jobs/${jobId}/events`, { 'last-event-id': String(lastId) })).text();
  expect(resumed).not.toContain('event:'); // nothing after the last event
  const res = await api.get(`/api/jobs/${jobId}/result`);
  expect(res.status).toBe(200);
  const body = await res.json() as { tables: { stageId: string; domain: string; table: { rows: { grouping: number; values: (number | null)[]; suppressed: boolean }[]; guard: { cells: number } } }[] };
  expect(body.tables).toHaveLength(1);
  const t = body.tables[0]!;
  expect(t).toMatchObject({ stageId: 'out', domain: 'registry' });
  for (const r of t.table.rows) for (const v of r.values) if (v !== null) { expect(v % 5).toBe(0); expect(v).toBeGreaterThanOrEqual(10); }
  // Which cells survive depends on the guard's choices (docs/disclosure.md, known limits); some must.
  expect(t.table.rows.some((r) => !r.suppressed)).toBe(true);
  expect(JSON.stringify(body)).not.toMatch(/\d{17}[\dX]/);
  return t.table;
}
