import { describe, expect, it } from 'vitest';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { operatorRegistry } from '../../../server/routes/operator.route.ts';
import type { JsonSchema } from '../../../workspace-ui/src/api/types.ts';
import { getAt, hintFor, missingRequired, paramPathOf, setAt, startParams, startValue } from '../../../workspace-ui/src/editor/schema.ts';

/** An operator as the browser receives it (the params JSON Schema read as the UI's JsonSchema). */
const op = (ref: string) => {
  const o = operatorRegistry().operators.find((x) => x.ref === ref);
  if (!o) throw new Error(`no ${ref}`);
  return { ...o, params: o.params as JsonSchema };
};

describe('inspector schema helpers on the real operator schemas', () => {
  it('finds hints by exact path, by `*` for array items, and by top-level name', () => {
    const derive = op('derive@1');
    expect(hintFor(derive.ui, ['columns', 0, 'expr'])).toEqual({ widget: 'expression' });
    expect(hintFor(derive.ui, ['columns', 3, 'name'])).toBeUndefined();
    expect(hintFor(op('filter@1').ui, ['condition'])?.widget).toBe('expression');
    expect(hintFor(op('geo-rollup@1').ui, ['by'])).toEqual({ widget: 'column', port: 'rows', multiple: true });
    expect(hintFor(op('aggregate@1').ui, ['measures', 1, 'column'])).toEqual({ widget: 'column', port: 'rows' });
  });

  it('starts a dropped node with its required parameters, and says what is still missing', () => {
    expect(startParams(op('filter@1').params)).toEqual({ condition: '' });
    expect(startParams(op('geo-rollup@1').params)).toEqual({}); // everything has a default
    const derive = startParams(op('derive@1').params);
    expect(derive).toEqual({ columns: [{ name: '', expr: '' }] });
    expect(missingRequired(op('derive@1').params, derive)).toEqual([['columns', 0, 'name'], ['columns', 0, 'expr']]);
    expect(missingRequired(op('derive@1').params, { columns: [] })).toEqual([['columns']]); // minItems 1
    expect(missingRequired(op('filter@1').params, { condition: "status = 'active'" })).toEqual([]);
    expect(startValue(op('aggregate@1').params.properties?.['measures']?.items ?? {})).toEqual({ kind: 'count_persons' });
    // What the form starts from, filled in, is what the validator takes.
    const doc = {
      specVersion: 1, name: 't', nodes: [
        { id: 'p', op: 'source@1', params: { ...startParams(op('source@1').params), dataset: 'registry.person' } },
        { id: 'r', op: 'geo-rollup@1', inputs: { rows: 'p' }, params: startParams(op('geo-rollup@1').params) },
        { id: 'o', op: 'output@1', inputs: { table: 'r' }, params: startParams(op('output@1').params) },
      ],
    };
    expect(validatePipeline(doc).ok).toBe(true);
  });

  it('maps server fields to form paths and updates nested values immutably', () => {
    expect(paramPathOf('params.columns.0.expr')).toBe('columns.0.expr');
    expect(paramPathOf('inputs.rows')).toBeUndefined();
    expect(paramPathOf(undefined)).toBeUndefined();
    const before = { columns: [{ name: 'a', expr: '1' }] };
    const after = setAt(before, ['columns', 0, 'expr'], '2');
    expect(after).toEqual({ columns: [{ name: 'a', expr: '2' }] });
    expect(before.columns[0]?.expr).toBe('1');
    expect(getAt(after, ['columns', 0, 'name'])).toBe('a');
    expect(setAt({ title: 'x', chart: 'bar' }, ['title'], undefined)).toEqual({ chart: 'bar' });
  });
});
