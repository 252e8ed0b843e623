import { describe, expect, it } from 'vitest';
import { checkRawDocument, rawNodeId } from './raw-document.ts';
import { MAX_DOCUMENT_DEPTH } from './spec.ts';

const doc = (extra: Record<string, unknown> = {}) => ({ specVersion: 1, name: 'x', nodes: [{ id: 'persons', op: 'source@1', params: { dataset: 'registry.person', ...extra } }] });

describe('raw document checks (before any schema)', () => {
  it('accepts an ordinary document', () => {
    expect(checkRawDocument(doc())).toBeUndefined();
  });

  it('refuses nesting deeper than the limit without recursing, naming the node', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(checkRawDocument(deep)).toMatchObject({ code: 'LAB-E003' });
    let inner: unknown = 0;
    for (let i = 0; i < MAX_DOCUMENT_DEPTH; i++) inner = { a: inner };
    expect(checkRawDocument(doc({ deep: inner }))).toMatchObject({ code: 'LAB-E003', nodeId: 'persons' });
  });

  it('refuses text Postgres cannot store, and __proto__ keys, naming the field', () => {
    expect(checkRawDocument({ ...doc(), name: 'a\u0000' })).toMatchObject({ code: 'LAB-E003', field: 'name' });
    expect(checkRawDocument({ ...doc(), name: 'a\udc00b' })).toMatchObject({ code: 'LAB-E003', field: 'name' });
    expect(checkRawDocument({ ...doc(), name: '成对 😀 fine' })).toBeUndefined();
    expect(checkRawDocument(doc({ 'k\u0000': 1 }))).toMatchObject({ code: 'LAB-E003', nodeId: 'persons', field: 'nodes.0.params.k\\u0000' });
    const proto = JSON.parse('{"specVersion":1,"name":"x","nodes":[{"id":"p","op":"source@1","params":{"__proto__":{"dataset":"registry.person"}}}]}') as unknown;
    expect(checkRawDocument(proto)).toMatchObject({ code: 'LAB-E003', nodeId: 'p', field: 'nodes.0.params.__proto__' });
  });

  it('refuses a document over the size limit', () => {
    expect(checkRawDocument({ ...doc(), description: 'x'.repeat(300 * 1024) })).toMatchObject({ code: 'LAB-E005' });
  });

  it.each([[2], ['1'], [undefined], [null], [1.5]])('specVersion %s → LAB-E086', (v) => {
    expect(checkRawDocument({ ...doc(), specVersion: v })).toMatchObject({ code: 'LAB-E086', field: 'specVersion' });
  });

  it('echoes a node id only when it is a well-formed one', () => {
    expect(rawNodeId(doc(), 0)).toBe('persons');
    expect(rawNodeId({ nodes: [{ id: "x'; DROP TABLE person; --" }] }, 0)).toBeUndefined();
    expect(rawNodeId({ nodes: 'no' }, 0)).toBeUndefined();
    expect(rawNodeId(doc(), 'nodes')).toBeUndefined();
  });
});
