import { sql } from 'kysely';
import { serve, type ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAG_LIBRARY } from '../../../operators/index.ts';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../../sandbox/domains/generator/index.ts';
import { S2_TAGS, type GroundTruth, type S2Tag } from '../../../sandbox/domains/generator/ground-truth.ts';
import { CATALOG, findDataset } from '../../../sandbox/domains/catalog/index.ts';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { planPipeline, type DomainStage } from '../../../sandbox/plan/planner.ts';
import { InlineQueue } from '../../../sandbox/runtime/queue/inline.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../../sandbox/runtime/worker/domain-worker.ts';
import { executeStage, runStageQuery, stageFor, type StagePayload } from '../../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { buildApp } from '../../../server/app.ts';
import { ensureDemoUsers } from '../../../server/lab/demo-users.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import { listenForResults } from '../../../server/services/job.service.ts';
import { signIn, waitForJob } from '../../support/api-client.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

const s2 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s2-key-groups.json', import.meta.url), 'utf8')) as unknown;
const OUTPUTS = { civil: 'civil', health: 'health', registry: 'registry' } as const satisfies Record<string, DomainId>;

/** The tags a stage's table counts: the code list of its `tag` key. */
function tagsOf(stage: DomainStage): S2Tag[] {
  const key = stage.table.keys.find((k) => k.name === 'tag');
  return Object.keys(key?.column.values ?? {}) as S2Tag[];
}

/** A stage's table from the ground truth alone: one cell per community × tag (cells of 0 are absent in both). */
function truthRows(truth: GroundTruth, tags: readonly S2Tag[]): RawRow[] {
  return tags.flatMap((tag) => Object.entries(truth.s2[tag]).map(([community, n]): RawRow => ({ community_code: community, tag, __grouping: 0, __units: n, persons: n })));
}

const cells = (rows: readonly RawRow[]) => rows
  .map((r) => [String(r['community_code']), String(r['tag']), Number(r['__grouping']), Number(r['__units']), Number(r['persons'])] as const)
  .sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1));

describe('S2 key groups: tags in three domains, distinct persons per community × tag, equal to the ground truth', () => {
  let lab: TestLab;
  let domains: Record<DomainId, Database>;
  let truth: GroundTruth;
  const payload = (stageId: string): StagePayload => ({ jobId: 'job2', stageId, pipeline: s2, guard: DEFAULT_STAFF_PARAMS });

  beforeAll(async () => {
    lab = await createPgTestLab();
    domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    const truthFile = join(lab.cfg.dataDir, 'truth.json');
    await seedCity({ persons: 20_000, seed: 's2-stage', domains, truthFile });
    truth = JSON.parse(readFileSync(truthFile, 'utf8')) as GroundTruth;
  }, 240_000);
  afterAll(async () => { await lab?.drop(); });

  it('plans one stage per output, one per domain, covering every S2 tag exactly once', () => {
    const v = validatePipeline(s2);
    if (!v.ok) throw v.errors[0];
    const stages = planPipeline(v.pipeline).stages.filter((s): s is DomainStage => s.kind === 'domain');
    expect(stages.map((s) => [s.id, s.domain]).sort()).toEqual(Object.entries(OUTPUTS).sort());
    expect(stages.flatMap(tagsOf).sort()).toEqual([...S2_TAGS].sort());
    for (const s of stages) expect(s.table.groupingSets).toEqual([['community_code', 'tag']]);
    for (const tag of S2_TAGS) expect(Object.keys(truth.s2[tag]).length, tag).toBeGreaterThan(0);
  });

  it('datasets the catalog says place each person once do so in the generated city (their geography subtotals are sums)', async () => {
    for (const ds of CATALOG.filter((d) => d.unit.placePerUnit === true)) {
      for (const g of ds.columns.filter((c) => c.geoLevel)) {
        const r = await sql<{ n: string }>`SELECT count(*)::text AS n FROM (SELECT 1 FROM ${sql.table(ds.table)} GROUP BY ${sql.ref(ds.unit.column)} HAVING count(DISTINCT ${sql.ref(g.name)}) > 1) x`.execute(domains[ds.domain].kysely);
        expect(r.rows[0]?.n, `${ds.id}.${g.name}`).toBe('0');
      }
    }
  });

  it.each(Object.entries(OUTPUTS))('%s — pre-guard: every community × tag cell equals truth.s2 exactly', async (stageId, domain) => {
    const stage = stageFor(domain, payload(stageId));
    const got = await runStageQuery(domains[domain], stage);
    expect(cells(got)).toEqual(cells(truthRows(truth, tagsOf(stage))));
  });

  it.each(Object.entries(OUTPUTS))('%s — released: equals the staff guard applied to the truth; no small count, no identifier', async (stageId, domain) => {
    const stage = stageFor(domain, payload(stageId));
    const released = await executeStage(domains[domain], domain, payload(stageId));
    expect(released).toEqual(guardForStaff(stage.table, truthRows(truth, tagsOf(stage)), DEFAULT_STAFF_PARAMS));
    for (const r of released.rows) for (const v of r.values) if (v !== null) { expect(v).toBeGreaterThanOrEqual(10); expect(v % 5).toBe(0); }
    expect(released.rows.some((r) => !r.suppressed)).toBe(true);
    expect(JSON.stringify(released)).not.toMatch(/\d{17}[\dX]/);
  });

  it('a roll-up by tag keeps the tag in every subtotal, and each subtotal is the sum of its communities in truth.s2', async () => {
    const doc = {
      specVersion: 1, name: 'rollup by tag',
      nodes: [
        { id: 'src', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'tagged', op: 'tag@1', inputs: { rows: 'src' }, params: { tags: ['floating', 'elderly_80'] } },
        { id: 'rollup', op: 'geo-rollup@1', inputs: { rows: 'tagged' }, params: { depth: 'community', by: ['tag'] } },
        { id: 'out', op: 'output@1', inputs: { table: 'rollup' }, params: {} },
      ],
    };
    const rows = await runStageQuery(domains.registry, stageFor('registry', { jobId: 'roll', stageId: 'out', pipeline: doc, guard: DEFAULT_STAFF_PARAMS }));
    const want = new Map<string, number>();
    for (const tag of ['floating', 'elderly_80'] as const) {
      for (const [community, n] of Object.entries(truth.s2[tag])) {
        for (const prefix of ['', community.slice(0, 6), community.slice(0, 9), community]) want.set(`${tag}|${prefix}`, (want.get(`${tag}|${prefix}`) ?? 0) + n);
      }
    }
    const got = new Map(rows.map((r) => [`${String(r['tag'])}|${String(r['community_code'] ?? r['street_code'] ?? r['district_code'] ?? '')}`, Number(r['persons'])]));
    expect(got).toEqual(want);
  });

  it('every tag of the library runs in its own domain on generated data', async () => {
    const byDataset = new Map<string, string[]>();
    for (const tag of TAG_LIBRARY.tags) byDataset.set(tag.dataset, [...(byDataset.get(tag.dataset) ?? []), tag.id]);
    for (const [dataset, tags] of byDataset) {
      const doc = {
        specVersion: 1, name: dataset,
        nodes: [
          { id: 'src', op: 'source@1', params: { dataset } },
          { id: 'tagged', op: 'tag@1', inputs: { rows: 'src' }, params: { tags } },
          { id: 'count', op: 'aggregate@1', inputs: { rows: 'tagged' }, params: { groupBy: ['tag'], measures: [{ kind: 'count_persons' }] } },
          { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
        ],
      };
      const domain = findDataset(dataset)?.domain;
      if (!domain) throw new Error(`no dataset ${dataset}`);
      const rows = await runStageQuery(domains[domain], stageFor(domain, { jobId: 'lib', stageId: 'out', pipeline: doc, guard: DEFAULT_STAFF_PARAMS }));
      for (const r of rows) expect(tags, dataset).toContain(r['tag']);
      // Every tag but the 15-digit ID check (the generator writes 18-digit numbers only) finds someone.
      expect(rows.map((r) => String(r['tag'])).sort(), dataset).toEqual(tags.filter((x) => x !== 'legacy_id_15').sort());
    }
  });

  describe('through the HTTP API', () => {
    const password = 's2-demo-password';
    const queue = new InlineQueue();
    const workers: DomainWorker[] = [];
    let server: ServerType | undefined;
    let baseUrl = '';

    beforeAll(async () => {
      const logger = createLogger('silent');
      for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue, logger }));
      await ensureDemoUsers(lab.control, password);
      await listenForResults(lab.control, queue, logger);
      const app = buildApp({ control: lab.control, logger, queue, health: async () => ({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
      server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)); });
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      if (server) { const s = server; await new Promise<void>((resolve) => s.close(() => resolve())); }
      for (const w of workers) await w.stop();
      await queue.close();
    });

    it('saves the multi-output, multi-domain pipeline, runs it, and returns one released table per output', async () => {
      const api = await signIn(baseUrl, 'analyst', password);
      const saved = await api.post('/api/pipelines', s2);
      expect(saved.status).toBe(201);
      const { id } = await saved.json() as { id: string };
      const run = await api.post(`/api/pipelines/${id}/runs`);
      expect(run.status).toBe(202);
      const { jobId } = await run.json() as { jobId: string };
      expect(await waitForJob(api, jobId)).toMatchObject({ state: 'succeeded' });
      const job = await (await api.get(`/api/jobs/${jobId}`)).json() as { progress: number; stages: { id: string; domain: string; state: string }[] };
      expect(job.progress).toBe(1);
      expect(job.stages.map((s) => [s.id, s.domain, s.state]).sort()).toEqual(Object.entries(OUTPUTS).map(([s, d]) => [s, d, 'succeeded']));
      const res = await api.get(`/api/jobs/${jobId}/result`);
      expect(res.status).toBe(200);
      const body = await res.json() as { tables: { stageId: string; domain: string; table: ReleasedTable }[] };
      expect(body.tables.map((t) => [t.stageId, t.domain]).sort()).toEqual(Object.entries(OUTPUTS).sort());
      for (const t of body.tables) {
        const domain = t.domain as DomainId;
        const stage = stageFor(domain, payload(t.stageId));
        expect(t.table, t.stageId).toEqual(guardForStaff(stage.table, truthRows(truth, tagsOf(stage)), DEFAULT_STAFF_PARAMS));
      }
      expect(JSON.stringify(body)).not.toMatch(/\d{17}[\dX]/);
    }, 180_000);
  });
});
