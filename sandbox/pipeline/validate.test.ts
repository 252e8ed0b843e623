import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AggregateTable } from './relation.ts';
import { validatePipeline } from './validate.ts';

const s1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as {
  nodes: { id: string; op: string; inputs?: Record<string, string>; params: Record<string, unknown> }[];
};
const clone = () => structuredClone(s1);
const firstError = (doc: unknown) => {
  const v = validatePipeline(doc);
  if (v.ok) throw new Error('expected a validation error');
  return v.errors[0];
};

describe('pipeline validation', () => {
  it('accepts S1 and infers the table: keys, grouping sets, classification', () => {
    const v = validatePipeline(s1);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const table = v.pipeline.byId.get('rollup')?.outputs['table'] as AggregateTable;
    expect(table.keys.map((k) => k.name)).toEqual(['district_code', 'street_code', 'community_code', 'grid_code', 'household_type', 'sex', 'age_band']);
    expect(table.groupingSets).toHaveLength(5 * 8);
    expect(table.groupingSets).toContainEqual([]);
    expect(table.level).toBe('L3'); // age band derives from the birth date (L3)
    expect(v.pipeline.nodes.map((n) => n.node.id)).toEqual(['persons', 'active', 'bands', 'rollup', 'out']);
  });

  it.each([
    ['unknown operator', (d: ReturnType<typeof clone>) => { d.nodes[1]!.op = 'magic@1'; }, 'LAB-E060', 'active', 'op'],
    ['unknown version', (d: ReturnType<typeof clone>) => { d.nodes[1]!.op = 'filter@9'; }, 'LAB-E060', 'active', 'op'],
    ['unknown dataset', (d: ReturnType<typeof clone>) => { d.nodes[0]!.params = { dataset: 'registry.secret' }; }, 'LAB-E062', 'persons', 'params.dataset'],
    ['unknown column', (d: ReturnType<typeof clone>) => { d.nodes[1]!.params = { condition: "statsu = 'active'" }; }, 'LAB-E052', 'active', 'params.condition'],
    ['type error', (d: ReturnType<typeof clone>) => { d.nodes[1]!.params = { condition: 'status + 1' }; }, 'LAB-E051', 'active', 'params.condition'],
    ['non-boolean filter', (d: ReturnType<typeof clone>) => { d.nodes[1]!.params = { condition: 'age(birth_date)' }; }, 'LAB-E051', 'active', 'params.condition'],
    ['dangling input', (d: ReturnType<typeof clone>) => { d.nodes[1]!.inputs = { rows: 'ghost' }; }, 'LAB-E061', 'active', 'inputs.rows'],
    ['missing input', (d: ReturnType<typeof clone>) => { d.nodes[1]!.inputs = {}; }, 'LAB-E061', 'active', 'inputs.rows'],
    ['mistyped port', (d: ReturnType<typeof clone>) => { d.nodes[4]!.inputs = { table: 'bands' }; }, 'LAB-E061', 'out', 'inputs.table'],
    ['cycle', (d: ReturnType<typeof clone>) => { d.nodes[1]!.inputs = { rows: 'bands' }; }, 'LAB-E066', undefined, 'inputs'],
    ['identifier as group key', (d: ReturnType<typeof clone>) => { d.nodes[3]!.params = { by: ['id_number'] }; }, 'LAB-E063', 'rollup', 'params.by.0'],
    ['identifier through a derivation', (d: ReturnType<typeof clone>) => {
      d.nodes[2]!.params = { columns: [{ name: 'age_band', expr: 'bucket(age(birth_date), 0, 15, 25, 45, 60, 80)' }, { name: 'pfx', expr: 'substr(id_number, 1, 6)' }] };
      d.nodes[3]!.params = { by: ['pfx'] };
    }, 'LAB-E063', 'rollup', 'params.by.0'],
    ['name as group key', (d: ReturnType<typeof clone>) => { d.nodes[3]!.params = { by: ['name'] }; }, 'LAB-E063', 'rollup', 'params.by.0'],
    ['bad params', (d: ReturnType<typeof clone>) => { d.nodes[3]!.params = { depth: 'planet' }; }, 'LAB-E003', 'rollup', 'params.depth'],
    ['unknown param', (d: ReturnType<typeof clone>) => { d.nodes[1]!.params = { condition: 'true', sql: 'DROP TABLE person' }; }, 'LAB-E003', 'active', 'params'],
  ])('%s → %s on the node and field', (_name, mutate, code, nodeId, field) => {
    const d = clone();
    mutate(d);
    const e = firstError(d);
    expect(e?.code).toBe(code);
    if (nodeId) expect(e?.nodeId).toBe(nodeId);
    expect(e?.field).toBe(field);
  });

  it('reports one error per broken node', () => {
    const d = clone();
    d.nodes[1]!.params = { condition: 'nope' };
    d.nodes.push({ id: 'other', op: 'filter@1', inputs: { rows: 'persons' }, params: { condition: 'sex + 1 > 2' } });
    const v = validatePipeline(d);
    expect(v.ok).toBe(false);
    // both broken nodes reported; nodes downstream of a broken one are not
    if (!v.ok) expect(v.errors.map((e) => [e.nodeId, e.code]).sort()).toEqual([['active', 'LAB-E052'], ['other', 'LAB-E051']]);
  });

  it('refuses malformed documents, oversize and too many nodes', () => {
    expect(firstError({ specVersion: 2, name: 'x', nodes: [] })).toMatchObject({ code: 'LAB-E086', field: 'specVersion' });
    expect(firstError('not an object')?.code).toBe('LAB-E003');
    const many = { specVersion: 1, name: 'big', nodes: Array.from({ length: 201 }, (_, i) => ({ id: `n${i}`, op: 'source@1', params: { dataset: 'registry.person' } })) };
    expect(firstError(many)).toMatchObject({ code: 'LAB-E003', field: 'nodes' });
    const huge = { ...clone(), description: 'x'.repeat(300 * 1024) };
    expect(firstError(huge)?.code).toBe('LAB-E005');
  });

  it('needs an output node', () => {
    const d = clone();
    d.nodes.pop();
    expect(firstError(d)?.code).toBe('LAB-E068');
  });
});
