import { describe, expect, it } from 'vitest';
import { compileProtocolItems, compileRel } from '../compile/plan.compile.ts';
import { validatePipeline } from '../pipeline/validate.ts';
import { planReads } from './levels.ts';
import { planPipeline, type ProtocolStep } from './planner.ts';

interface Node { id: string; op: string; inputs?: Record<string, string>; params: Record<string, unknown> }
const plan = (nodes: Node[]) => {
  const v = validatePipeline({ specVersion: 1, name: 'p', nodes });
  if (!v.ok) throw v.errors[0];
  return planPipeline(v.pipeline);
};

/** Registered persons with a death record (registry × civil), then those of them never employed (× social). */
const chained: Node[] = [
  { id: 'persons', op: 'source@1', params: { dataset: 'registry.person' } },
  { id: 'deaths', op: 'source@1', params: { dataset: 'civil.death' } },
  { id: 'jobs', op: 'source@1', params: { dataset: 'social.employment' } },
  { id: 'dead', op: 'join@1', inputs: { left: 'persons', right: 'deaths' }, params: { type: 'semi', leftKey: 'id_number', rightKey: 'id_number' } },
  { id: 'never_employed', op: 'join@1', inputs: { left: 'dead', right: 'jobs' }, params: { type: 'anti', leftKey: 'id_number', rightKey: 'id_number' } },
  { id: 'count', op: 'aggregate@1', inputs: { rows: 'never_employed' }, params: { groupBy: ['district_code'], measures: [{ kind: 'count_persons' }] } },
  { id: 'out', op: 'output@1', inputs: { table: 'count' }, params: {} },
  { id: 'list', op: 'follow-up@1', inputs: { rows: 'never_employed' }, params: { title: 'to check' } },
];

describe('planner: protocol steps for joins across domains', () => {
  it('chained steps: the second step reads the first step\u2019s members on its receiver side; steps come first, in order; stages list both', () => {
    const p = plan(chained);
    expect(p.stages.slice(0, 2).map((s) => [s.kind, s.id, s.after])).toEqual([
      ['protocol', 'psi~dead', []],
      ['protocol', 'psi~never_employed', ['psi~dead']],
    ]);
    expect(p.stages.slice(2).map((s) => [s.kind, s.id, [...s.after].sort()]).sort()).toEqual([
      ['domain', 'out', ['psi~dead', 'psi~never_employed']],
      ['follow-up', 'list', ['psi~dead', 'psi~never_employed']],
    ]);
    const second = p.stages[1] as ProtocolStep;
    expect(second).toMatchObject({ receiver: 'registry', sender: 'social', domains: ['registry', 'social'] });
    // The receiver's items are read after the first step: its SQL filters on that step's members.
    const items = compileProtocolItems(second.receiverRel, second.receiverKey, '2026-06-30', { jobId: 'job-1' });
    expect(items.sql).toContain('SELECT DISTINCT upper(btrim("id_number"::text)) AS "item" FROM (WITH');
    expect(items.sql).toContain('EXISTS (SELECT 1 FROM "lab_psi_member" m WHERE m."job_id" = $1::text AND m."step_id" = $2::text');
    expect(items.parameters).toEqual(['job-1', 'psi~dead']);
    const out = p.stages.find((x) => x.kind === 'domain');
    if (out?.kind !== 'domain') throw new Error('no stage');
    const q = compileRel(out.rel, '2026-06-30', { jobId: 'job-1' });
    expect(q.parameters).toEqual(['job-1', 'psi~dead', 'job-1', 'psi~never_employed']);
    expect(q.sql).toContain('WHERE NOT EXISTS (SELECT 1 FROM "lab_psi_member" m');
    // Policy sees every domain and the identifier keys used to match.
    expect(planReads(p)).toMatchObject({ domains: ['civil', 'registry', 'social'] });
    expect(planReads(p).maxLevel).toBeGreaterThanOrEqual(3);
    expect(p.datasets).toEqual(['civil.death', 'registry.person', 'social.employment']);
  });

  it('houses match on the normalised address key; a detailed address or a house number across domains is LAB-E160', () => {
    const houses = (leftKey: string, rightKey: string): Node[] => [
      { id: 'h', op: 'source@1', params: { dataset: 'housing.rental_house' } },
      { id: 'i', op: 'source@1', params: { dataset: 'grid.incident' } },
      { id: 'j', op: 'join@1', inputs: { left: 'h', right: 'i' }, params: { type: 'semi', leftKey, rightKey } },
      { id: 'c', op: 'aggregate@1', inputs: { rows: 'j' }, params: { measures: [{ kind: 'count_persons' }] } },
      { id: 'o', op: 'output@1', inputs: { table: 'c' }, params: {} },
    ];
    expect(plan(houses('address_key', 'address_key')).stages[0]).toMatchObject({ kind: 'protocol', receiver: 'housing', sender: 'grid', receiverKey: 'address_key' });
    expect(() => plan(houses('address', 'address_key'))).toThrow(expect.objectContaining({ code: 'LAB-E160', nodeId: 'j', field: 'params.leftKey' }));
    expect(() => plan(houses('owner_id_number', 'address_key'))).toThrow(expect.objectContaining({ code: 'LAB-E160', nodeId: 'j' }));
  });

  it('a step nobody reads is not planned; a union across domains is still LAB-E067', () => {
    const unused = [...chained.filter((n) => n.id !== 'count' && n.id !== 'out' && n.id !== 'list'),
      { id: 'c2', op: 'aggregate@1', inputs: { rows: 'persons' }, params: { measures: [{ kind: 'count_persons' }] } },
      { id: 'o2', op: 'output@1', inputs: { table: 'c2' }, params: {} }];
    expect(plan(unused).stages.map((s) => s.id)).toEqual(['o2']);
    const union: Node[] = [
      { id: 'a', op: 'source@1', params: { dataset: 'social.employment' } },
      { id: 'b', op: 'source@1', params: { dataset: 'grid.visit' } },
      { id: 'u', op: 'union@1', inputs: { a: 'a', b: 'b' }, params: {} },
      { id: 'c', op: 'aggregate@1', inputs: { rows: 'u' }, params: { measures: [{ kind: 'count_persons' }] } },
      { id: 'o', op: 'output@1', inputs: { table: 'c' }, params: {} },
    ];
    expect(() => plan(union)).toThrow(expect.objectContaining({ code: 'LAB-E067' }));
  });

  it('alsoMatch: an ID number ‖ district item on both sides (built in SQL, never a column); a non-geography or another level is LAB-E167', () => {
    const sep = (also: { left: string; right: string }): Node[] => [
      { id: 'persons', op: 'source@1', params: { dataset: 'registry.person' } },
      { id: 'visits', op: 'source@1', params: { dataset: 'grid.visit' } },
      { id: 'away', op: 'join@1', inputs: { left: 'persons', right: 'visits' }, params: { type: 'anti', leftKey: 'id_number', rightKey: 'id_number', alsoMatch: [also] } },
      { id: 'c', op: 'aggregate@1', inputs: { rows: 'away' }, params: { groupBy: ['district_code'], measures: [{ kind: 'count_persons' }] } },
      { id: 'o', op: 'output@1', inputs: { table: 'c' }, params: {} },
    ];
    const p = plan(sep({ left: 'district_code', right: 'district_code' }));
    const step = p.stages[0] as ProtocolStep;
    expect(step).toMatchObject({ kind: 'protocol', receiver: 'registry', sender: 'grid', receiverAlso: ['district_code'], senderAlso: ['district_code'] });
    const items = compileProtocolItems(step.senderRel, step.senderKey, '2026-06-30', {}, step.senderAlso);
    expect(items.sql).toContain(`SELECT DISTINCT upper(btrim("id_number"::text)) || '|' || upper(btrim("district_code"::text)) AS "item"`);
    expect(items.sql).toContain('WHERE "id_number" IS NOT NULL AND "district_code" IS NOT NULL');
    const out = p.stages[1];
    if (out?.kind !== 'domain') throw new Error('no stage');
    // The member test builds the same item from the receiver's row; the output has no such column.
    const q = compileRel(out.rel, '2026-06-30', { jobId: 'job-1' });
    expect(q.sql).toContain(`m."item" = upper(btrim(s."id_number"::text)) || '|' || upper(btrim(s."district_code"::text))`);
    expect(out.table.keys.map((k) => k.name)).toEqual(['district_code']);
    expect(() => plan(sep({ left: 'district_code', right: 'grid_code' }))).toThrow(expect.objectContaining({ code: 'LAB-E167', nodeId: 'away', field: 'params.alsoMatch.0' }));
    expect(() => plan(sep({ left: 'id_number', right: 'id_number' }))).toThrow(expect.objectContaining({ code: 'LAB-E167', nodeId: 'away' }));
    // Inside one domain the extra pair is an ordinary join condition.
    const inDomain: Node[] = [
      { id: 't', op: 'source@1', params: { dataset: 'housing.tenancy' } },
      { id: 'h', op: 'source@1', params: { dataset: 'housing.rental_house' } },
      { id: 'j', op: 'join@1', inputs: { left: 't', right: 'h' }, params: { type: 'semi', leftKey: 'house_id', rightKey: 'house_id', alsoMatch: [{ left: 'tenant_id_number', right: 'owner_id_number' }] } },
      { id: 'c', op: 'aggregate@1', inputs: { rows: 'j' }, params: { measures: [{ kind: 'count_persons' }] } },
      { id: 'o', op: 'output@1', inputs: { table: 'c' }, params: {} },
    ];
    const d = plan(inDomain).stages[0];
    if (d?.kind !== 'domain') throw new Error('no stage');
    expect(compileRel(d.rel, '2026-06-30').sql).toContain('WHERE l."house_id" = r."house_id" AND l."tenant_id_number" = r."owner_id_number")');
    // A pair of different types is refused when the pipeline is validated (LAB-E085).
    expect(() => plan(sep({ left: 'district_code', right: 'visited_on' }))).toThrow(expect.objectContaining({ code: 'LAB-E085', field: 'params.alsoMatch.0.right' }));
  });
});
