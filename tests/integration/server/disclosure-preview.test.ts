import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as { nodes: { id: string; op: string; params: Record<string, unknown> }[] } & Record<string, unknown>;

interface Preview {
  rule: string; policyVersion: number; threshold: number; rounding: number; cellKeyNoise: number | null; maxLevels: number;
  dp: { epsilon: string; mechanism: string } | null; review: boolean;
  tables: { nodeId: string; tableNodeId: string; domain: string; keys: { name: string; geoLevel: string | null; margin: boolean }[]; groupingSets: string[][]; measures: { name: string; kind: string; dominance: boolean }[] }[];
}

/**
 * POST /api/pipelines/disclosure-preview on the real HTTP API: the guard's parameters for the
 * caller's role from the policy in force, and each table's keys and totals — from the document
 * and the policy alone (nothing runs, nothing is read from a domain).
 */
describe('disclosure preview', () => {
  const password = 'preview-password-0';
  let served: ServedLab;
  let analyst: ApiClient;
  let researcher: ApiClient;
  let officer: ApiClient;
  let steward: ApiClient;

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 'preview', password });
    analyst = await served.signIn('analyst');
    researcher = await served.signIn('researcher');
    officer = await served.signIn('officer');
    steward = await served.signIn('steward.registry');
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  it('staff: threshold 7 and rounding 5 of the policy in force; the S1 roll-up’s keys, each with totals over it', async () => {
    const res = await analyst.post('/api/pipelines/disclosure-preview', example('s1-population-rollup'));
    expect(res.status).toBe(200);
    const p = await res.json() as Preview;
    expect(p).toMatchObject({ rule: 'staff', policyVersion: 1, threshold: 7, rounding: 5, dp: null, review: false, maxLevels: 40 });
    const out = p.tables.find((t) => t.nodeId === 'out');
    expect(out).toBeDefined();
    expect(out?.tableNodeId).toBe('rollup');
    expect(p.tables.find((t) => t.nodeId === 'rollup')?.keys).toEqual(out?.keys);
    expect(out?.domain).toBe('registry');
    const geo = out?.keys.filter((k) => k.geoLevel !== null).map((k) => k.geoLevel);
    expect(geo?.[0]).toBe('district');
    // A roll-up: a city total, so every key has totals over it.
    expect(out?.keys.every((k) => k.margin)).toBe(true);
    expect(out?.groupingSets).toContainEqual([]);
    expect(out?.measures.every((m) => m.kind === 'count_persons' && !m.dominance)).toBe(true);
  });

  it('an aggregate without subtotals has no margins; with margins, every key', async () => {
    const doc = example('s6-registry-new-inflow');
    const agg = doc.nodes.find((n) => n.op.startsWith('aggregate@'));
    if (!agg) throw new Error('S6 without an aggregate');
    agg.params['subtotals'] = 'none';
    const plain = await (await analyst.post('/api/pipelines/disclosure-preview', doc)).json() as Preview;
    expect(plain.tables.find((t) => t.nodeId === agg.id)?.keys.some((k) => k.margin)).toBe(false);
    agg.params['subtotals'] = 'margins';
    const cube = await (await analyst.post('/api/pipelines/disclosure-preview', doc)).json() as Preview;
    expect(cube.tables.find((t) => t.nodeId === agg.id)?.keys.every((k) => k.margin)).toBe(true);
  });

  it('researchers: threshold 10, differential privacy with the default ε, an officer’s review', async () => {
    const p = await (await researcher.post('/api/pipelines/disclosure-preview', example('s7-floating-age-structure'))).json() as Preview;
    expect(p).toMatchObject({ rule: 'researcher-dp', threshold: 10, rounding: 5, dp: { epsilon: '1', mechanism: 'discrete-laplace' }, review: true });
    expect(p.tables.length).toBeGreaterThan(0);
  });

  it('keeps the p % and dominance parameters confidential', async () => {
    const text = await (await analyst.post('/api/pipelines/disclosure-preview', example('s1-population-rollup'))).text();
    expect(text).not.toMatch(/pPercent|nkK|0\.9|0\.1\b/);
  });

  it('follows the policy in force: an officer raises the staff threshold, the next preview says so', async () => {
    const current = await (await officer.get('/api/policies/current')).json() as { cedar: string; params: { staff: { threshold: number } } };
    const params = { ...current.params, staff: { ...current.params.staff, threshold: 9 } };
    const saved = await officer.post('/api/policies', { cedar: current.cedar, params, baseVersion: 1, comment: 'preview test' });
    expect(saved.status).toBe(201);
    const p = await (await analyst.post('/api/pipelines/disclosure-preview', example('s1-population-rollup'))).json() as Preview;
    expect(p).toMatchObject({ policyVersion: 2, threshold: 9 });
  });

  it('reads no data and runs nothing: no job, no stage', async () => {
    const jobs = await served.lab.control.kysely.selectFrom('job').select('id').execute();
    expect(jobs).toEqual([]);
  });

  it('an invalid pipeline is 422 with its problems; stewards (no pipelines) 403; not JSON 400', async () => {
    const broken = example('s1-population-rollup');
    const active = broken.nodes.find((n) => n.id === 'active');
    if (active) active.params['condition'] = "statsu = 'active'";
    const bad = await analyst.post('/api/pipelines/disclosure-preview', broken);
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ code: 'LAB-E052', nodeId: 'active', errors: [{ nodeId: 'active', field: 'params.condition' }] });
    expect((await steward.post('/api/pipelines/disclosure-preview', example('s1-population-rollup'))).status).toBe(403);
    expect((await analyst.post('/api/pipelines/disclosure-preview')).status).toBe(400);
  });
});
