import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleasedTable } from '../../sandbox/disclosure/released-table.ts';
import { budgetRepository } from '../../server/repositories/budget.repository.ts';
import { DEMO_PROJECT } from '../../server/lab/demo-users.ts';
import { waitForJob } from '../support/api-client.ts';
import {
  countPipeline, createPrivacyLab, exactUnits, finish, only, rowCell, runAs, trueRows, truthQuery, type PipelineDoc, type PipelineNode, type PrivacyLab,
} from './privacy-lab.ts';

/**
 * Repeated and rewritten queries. Researchers: every answer carries fresh differential-privacy
 * noise, so averaging repeated answers, or rewriting a query so that it looks new, would wash the
 * noise out — unless every run is charged to the budget, which then refuses. Staff with cell-key
 * noise: the same persons get the same answer, whatever the query looks like.
 */

const s7 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s7-floating-age-structure.json', import.meta.url), 'utf8')) as PipelineDoc;

let p: PrivacyLab;
beforeAll(async () => { p = await createPrivacyLab({ persons: 10_000, seed: 'privacy-repeats' }); }, 180_000);
afterAll(async () => { await p?.close(); });

interface Budget { projectId: string; total: string; spent: string; charges: { jobId: string; epsilon: string }[] }
const budget = async (project: string) =>
  ((await (await p.researcher.get('/api/budgets')).json()) as { budgets: Budget[] }).budgets.find((b) => b.projectId === project);

/** Saves and runs as the researcher; an officer approves; returns the job id. */
async function submitApproved(doc: PipelineDoc, projectId: string): Promise<string> {
  const saved = await p.researcher.post('/api/pipelines', doc);
  expect(saved.status).toBe(201);
  const { id } = await saved.json() as { id: string };
  const run = await p.researcher.post(`/api/pipelines/${id}/runs`, { projectId });
  expect(run.status).toBe(202);
  const { jobId, state } = await run.json() as { jobId: string; state: string };
  expect(state).toBe('awaiting_approval');
  expect((await p.officer.post(`/api/jobs/${jobId}/approve`, { note: 'attack suite' })).status).toBe(200);
  return jobId;
}

/** Waits, has the officer release the output, and reads it as the researcher. */
async function released(jobId: string): Promise<ReleasedTable> {
  const job = await waitForJob(p.researcher, jobId);
  expect(job, JSON.stringify(job.error)).toMatchObject({ state: 'succeeded' });
  expect((await p.officer.post(`/api/jobs/${jobId}/review`, { decision: 'released' })).status).toBe(200);
  return only(await finish(p.researcher, jobId));
}

/** S7 with its filter rewritten to an equivalent condition. */
function s7Rewritten(condition: string, name: string): PipelineDoc {
  const doc = structuredClone(s7);
  doc.name = name;
  const f = doc.nodes.find((n) => n.id === 'floating');
  if (!f) throw new Error('S7 changed');
  f.params['condition'] = condition;
  return doc;
}

/** S7 with its nodes in reverse order and every node renamed. */
function s7Reordered(): PipelineDoc {
  const rename: Record<string, string> = { persons: 'a1', floating: 'b2', bands: 'c3', rollup: 'd4', out: 'e5' };
  const nodes: PipelineNode[] = s7.nodes.map((n) => ({
    ...structuredClone(n), id: rename[n.id] ?? n.id,
    ...(n.inputs ? { inputs: Object.fromEntries(Object.entries(n.inputs).map(([k, v]) => [k, rename[v] ?? v])) } : {}),
  })).reverse();
  return { specVersion: 1, name: 'age structure (reordered)', nodes };
}

const cellsOf = (t: ReleasedTable) => new Map(t.rows.map((r) => [`${r.grouping}|${JSON.stringify(r.keys)}`, r.values[0] ?? null]));

describe('averaging repeated DP answers, and rewriting the query to get fresh noise (researcher, ε = 1 a run, budget 3)', () => {
  const answers: ReleasedTable[] = [];

  it('S7 as published, with its filter rewritten, and with its nodes reordered and renamed: each run is charged again', async () => {
    const docs = [
      s7,
      s7Rewritten("household_type = 'floating' AND NOT (status != 'active')", 'age structure (filter rewritten)'),
      s7Reordered(),
    ];
    for (const [i, doc] of docs.entries()) {
      answers.push(await released(await submitApproved(doc, DEMO_PROJECT)));
      expect(await budget(DEMO_PROJECT), `after run ${i + 1}`).toMatchObject({ spent: `${i + 1}.000000` });
    }
    // The rewrites did get fresh noise (that is what the attacker wanted) …
    const [a, b, c] = answers.map(cellsOf) as [Map<string, number | null>, Map<string, number | null>, Map<string, number | null>];
    let differ = 0;
    for (const [k, v] of a) if (v !== b.get(k) || v !== c.get(k)) differ += 1;
    expect(differ, 'three independent noisy answers').toBeGreaterThan(10);
    // … and paid for it: three charges of ε = 1, one per job.
    expect((await budget(DEMO_PROJECT))?.charges.map((c) => c.epsilon)).toEqual(['1.000000', '1.000000', '1.000000']);
  });

  it.each([
    ['S7 once more, as published', () => s7],
    ['a fourth rewrite (an IN list)', () => s7Rewritten("status IN ('active') AND household_type IN ('floating')", 'age structure (IN lists)')],
  ])('%s: refused once the budget is spent, before anything runs; nothing released, nothing charged', async (_name, make) => {
    const jobId = await submitApproved(make(), DEMO_PROJECT);
    const job = await waitForJob(p.researcher, jobId);
    expect(job.state).toBe('failed');
    expect(JSON.stringify(job.error)).toContain('LAB-E136');
    expect((await p.researcher.get(`/api/jobs/${jobId}/result`)).status).toBe(409);
    expect((await p.officer.post(`/api/jobs/${jobId}/review`, { decision: 'released' })).status).toBeGreaterThanOrEqual(400);
    expect(await budget(DEMO_PROJECT)).toMatchObject({ spent: '3.000000' });
  });

  it('racing two approved runs against the last ε of a budget: one runs, the other is refused', async () => {
    const { kysely } = p.lab.control;
    const user = await kysely.selectFrom('app_user').select('id').where('username', '=', 'researcher').executeTakeFirstOrThrow();
    await budgetRepository.ensureProject(kysely, 'attack-race', 'race');
    await budgetRepository.grant(kysely, { projectId: 'attack-race', userId: user.id, total: '1' });
    const ids: string[] = [];
    for (const name of ['race 1', 'race 2']) {
      const saved = await p.researcher.post('/api/pipelines', { ...s7, name });
      const { id } = await saved.json() as { id: string };
      ids.push((await (await p.researcher.post(`/api/pipelines/${id}/runs`, { projectId: 'attack-race' })).json() as { jobId: string }).jobId);
    }
    await Promise.all(ids.map((id) => p.officer.post(`/api/jobs/${id}/approve`, {})));
    const states = (await Promise.all(ids.map((id) => waitForJob(p.researcher, id)))).map((j) => j.state).sort();
    expect(states).toEqual(['failed', 'succeeded']);
    expect(await budget('attack-race')).toMatchObject({ spent: '1.000000' });
  });
});

describe('one person in several noisy cells (researcher)', () => {
  it('chronic conditions by district × condition: a patient with several conditions would sit in several noisy cells, so the release is refused', async () => {
    const { kysely } = p.lab.control;
    const user = await kysely.selectFrom('app_user').select('id').where('username', '=', 'researcher').executeTakeFirstOrThrow();
    await budgetRepository.ensureProject(kysely, 'attack-conditions', 'conditions');
    await budgetRepository.grant(kysely, { projectId: 'attack-conditions', userId: user.id, total: '3' });
    const [row] = await truthQuery<{ n: number }>(p.domains.health, 'SELECT max(n)::int AS n FROM (SELECT id_number, count(DISTINCT condition) AS n FROM chronic_condition GROUP BY 1) x');
    expect(row?.n ?? 0, 'some patients have several conditions').toBeGreaterThan(1);
    const doc = countPipeline({ name: 'conditions by district', dataset: 'health.chronic_condition', groupBy: ['district_code', 'condition'] });
    const jobId = await submitApproved(doc, 'attack-conditions');
    const job = await waitForJob(p.researcher, jobId);
    expect(job.state).toBe('failed');
    expect(JSON.stringify(job.error)).toContain('LAB-E124');
    // The ε of a refused release was charged when the job was sent (the domain refused it after):
    // at most the job's ε, never the kε the cells would have cost.
    expect(Number((await budget('attack-conditions'))?.spent ?? '9')).toBeLessThanOrEqual(1);
  });
});

describe('cell-key noise for staff: the same persons, the same answer', () => {
  const where = "status = 'active' AND household_type = 'floating'";
  const tables: ReleasedTable[] = [];

  it('an officer turns cell-key noise on (d = 2) in a new policy version', async () => {
    const current = await (await p.officer.get('/api/policies/current')).json() as { version: number; cedar: string; params: { staff: Record<string, unknown> } & Record<string, unknown> };
    const params = { ...current.params, staff: { ...current.params.staff, cellKeyNoise: { d: 2 } } };
    const saved = await p.officer.post('/api/policies', { cedar: current.cedar, params, baseVersion: current.version, comment: 'cell-key noise for staff' });
    expect(saved.status).toBe(201);
  });

  it('rerunning, rewriting the filter, and renaming the key all give the identical noisy answer: averaging gains nothing', async () => {
    const band = { name: 'band', expr: 'bucket(age(birth_date), 0, 15, 25, 45, 60, 80)' };
    const by = (name: string, w: string) => countPipeline({ name, dataset: 'registry.person', where: w, derive: [band], groupBy: ['district_code', 'sex', 'band'] });
    const variants = [
      by('floating by district, sex and age', where),
      by('floating by district, sex and age (again)', where),
      by('floating by district, sex and age (rewritten)', "NOT (household_type = 'local') AND status IN ('active')"),
    ];
    for (const doc of variants) tables.push(only(await runAs(p.analyst, doc)));
    const first = tables[0] as ReleasedTable;
    expect(first.guard.cellKeyNoise).toBe(2);
    for (const t of tables.slice(1)) expect(t.rows).toEqual(first.rows);
    const renamed = only(await runAs(p.analyst, countPipeline({
      name: 'floating by a renamed district key', dataset: 'registry.person', where,
      derive: [band, { name: 'area', expr: 'district_code' }], groupBy: ['area', 'sex', 'band'],
    })));
    const answer = (t: ReleasedTable) => t.rows.filter((r) => r.grouping === 0).map((r) => [...r.keys, r.suppressed, r.values[0]].join('|')).sort();
    expect(answer(renamed)).toEqual(answer(first));
    // The noise is there: some released counts are not the true count rounded (each moves with
    // probability about 1/4; the table has over a hundred released cells).
    const exact = exactUnits(first, await trueRows(p.domains.registry, 'registry', variants[0] as PipelineDoc));
    const released = first.rows.filter((r) => !r.suppressed);
    const moved = released.filter((r) => r.values[0] !== Math.round((exact.get(rowCell(r)) ?? 0) / 5) * 5);
    expect(released.length).toBeGreaterThan(50);
    expect(moved.length).toBeGreaterThan(0);
  });

  // Was a leak (docs/privacy-attacks.md#rounding): a sum of the constant 1 was neither perturbed nor
  // rounded. Sums now move by the cell's offset times the largest contribution and are rounded as
  // counts are, so the sum of 1 is the released (noisy, rounded) count itself: the attacker learns
  // nothing from it that the count did not say. (The count's noise is shown above.)
  it('no released value gives the count of a cell more precisely than the noise and rounding allow', async () => {
    const t = only(await runAs(p.analyst, countPipeline({
      name: 'floating by district, counted as a sum', dataset: 'registry.person', where,
      derive: [{ name: 'one', expr: '1' }], groupBy: ['district_code'], measures: [{ kind: 'count_persons' }, { kind: 'sum', column: 'one', name: 'n' }],
    })));
    expect(t.guard.cellKeyNoise).toBe(2);
    const truth = await truthQuery<{ d: string; n: number }>(p.domains.registry, `SELECT district_code AS d, count(*)::int AS n FROM person WHERE ${where} GROUP BY 1`);
    const released = t.rows.filter((r) => !r.suppressed && r.grouping === 0);
    expect(released.length).toBeGreaterThan(3);
    for (const r of released) {
      expect(r.values[1], `district ${r.keys[0]}: the sum of 1 is the released count`).toBe(r.values[0]);
      expect((r.values[1] ?? 1) % 5).toBe(0);
    }
    // Exact answers only where the count's own noise and rounding happen to give one.
    const exactSums = released.filter((r) => r.values[1] === truth.find((x) => x.d === r.keys[0])?.n);
    const exactCounts = released.filter((r) => r.values[0] === truth.find((x) => x.d === r.keys[0])?.n);
    expect(exactSums).toEqual(exactCounts);
  });
});
