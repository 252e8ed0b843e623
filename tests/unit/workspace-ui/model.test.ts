import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { operatorRegistry } from '../../../server/routes/operator.route.ts';
import type { PipelineDocument } from '../../../workspace-ui/src/api/types.ts';
import {
  addNode, commit, connect, connectionProblem, edgeId, emptyDoc, fromDocument, historyOf, HISTORY_LIMIT, moveNodes, newNodeId, redo,
  removeElements, toDocument, undo, updateNode, upstream, type EditorDoc, type PortsOf,
} from '../../../workspace-ui/src/editor/model.ts';

const ops = new Map(operatorRegistry().operators.map((o) => [o.ref, o]));
const portsOf: PortsOf = (ref) => ops.get(ref);
const example = (file: string) => JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${file}`, import.meta.url), 'utf8')) as PipelineDocument;

describe('workspace pipeline model', () => {
  it('reads every example and writes a document the real validator accepts, with the same connections', () => {
    for (const file of ['s1-population-rollup.json', 's2-key-groups.json', 's6-registry-new-inflow.json']) {
      const original = example(file);
      const doc = fromDocument(original, portsOf);
      expect(doc.nodes.map((n) => n.id)).toEqual(original.nodes.map((n) => n.id));
      const written = toDocument(doc);
      const v = validatePipeline(written);
      expect(v.ok, `${file}: ${v.ok ? '' : JSON.stringify(v.errors.map((e) => e.code))}`).toBe(true);
      // Short refs (`"rows": "persons"`) come back in full form, naming the same node and port.
      for (const n of original.nodes) {
        for (const [port, ref] of Object.entries(n.inputs ?? {})) {
          const back = written.nodes.find((x) => x.id === n.id)?.inputs?.[port] ?? '';
          expect(back.split('.')[0]).toBe(ref.split('.')[0]);
          expect(back).toMatch(/^[A-Za-z][\w-]*\.[a-z][a-z0-9_]*$/);
        }
      }
      expect(fromDocument(written, portsOf)).toEqual(doc);
    }
  });

  it('refuses a port type mismatch, a cycle and a self-connection, and accepts a fitting connection', () => {
    const s1 = fromDocument(example('s1-population-rollup.json'), portsOf);
    // rows output → table input
    expect(connectionProblem(s1, portsOf, { source: 'active', sourcePort: 'rows', target: 'out', targetPort: 'table' }))
      .toEqual({ kind: 'type-mismatch', from: 'rows', to: 'table' });
    // bands (downstream of active) → active: a cycle
    expect(connectionProblem(s1, portsOf, { source: 'bands', sourcePort: 'rows', target: 'active', targetPort: 'rows' })).toEqual({ kind: 'cycle' });
    expect(connectionProblem(s1, portsOf, { source: 'active', sourcePort: 'rows', target: 'active', targetPort: 'rows' })).toEqual({ kind: 'self' });
    expect(connectionProblem(s1, portsOf, { source: 'active', sourcePort: 'nope', target: 'bands', targetPort: 'rows' })).toEqual({ kind: 'unknown-port' });
    // persons → bands skips the filter: fits, and replaces bands' current input
    const c = { source: 'persons', sourcePort: 'rows', target: 'bands', targetPort: 'rows' };
    expect(connectionProblem(s1, portsOf, c)).toBeUndefined();
    const rewired = connect(s1, c);
    expect(rewired.edges.filter((e) => e.target === 'bands')).toEqual([c]);
    expect(rewired.edges).toHaveLength(s1.edges.length);
    expect(upstream(rewired, 'out').has('active')).toBe(false);
  });

  it('adds, moves, edits and removes nodes without touching the document it came from', () => {
    const start = emptyDoc('t');
    const { doc: one, id } = addNode(start, { op: 'source@1', params: { dataset: 'registry.person' }, position: { x: 0, y: 0 } }, 'source');
    expect(id).toBe('source_1');
    expect(newNodeId(one, 'source')).toBe('source_2');
    const { doc: two } = addNode(one, { op: 'filter@1', params: { condition: "status = 'active'" }, position: { x: 240, y: 0 } }, 'filter');
    const wired = connect(two, { source: 'source_1', sourcePort: 'rows', target: 'filter_1', targetPort: 'rows' });
    const moved = moveNodes(wired, new Map([['filter_1', { x: 300, y: 40 }]]));
    const labelled = updateNode(moved, 'filter_1', { label: 'Active' });
    expect(labelled.nodes[1]).toMatchObject({ position: { x: 300, y: 40 }, label: 'Active', params: { condition: "status = 'active'" } });
    const removed = removeElements(labelled, ['source_1']);
    expect(removed.nodes.map((n) => n.id)).toEqual(['filter_1']);
    expect(removed.edges).toEqual([]); // the connection went with the node
    const edgeGone = removeElements(labelled, [], [edgeId(labelled.edges[0]!)]);
    expect(edgeGone.nodes).toHaveLength(2);
    expect(edgeGone.edges).toEqual([]);
    expect(start.nodes).toEqual([]);
    expect(wired.nodes[1]?.position).toEqual({ x: 240, y: 0 });
  });

  it('undoes and redoes; typing into one field is one step; history is bounded', () => {
    const a = emptyDoc('a');
    const b: EditorDoc = { ...a, name: 'b' };
    let h = commit(historyOf(a), b);
    const typed1 = updateNode(addNode(b, { op: 'filter@1', params: { condition: 's' }, position: { x: 0, y: 0 } }, 'filter').doc, 'filter_1', {});
    h = commit(h, typed1);
    h = commit(h, updateNode(h.present, 'filter_1', { params: { condition: 'st' } }), 'params:filter_1:condition');
    h = commit(h, updateNode(h.present, 'filter_1', { params: { condition: 'sta' } }), 'params:filter_1:condition');
    expect(h.past).toHaveLength(3);
    h = undo(h);
    expect(h.present.nodes[0]?.params).toEqual({ condition: 's' });
    h = undo(h);
    expect(h.present).toBe(b);
    h = redo(redo(h));
    expect(h.present.nodes[0]?.params).toEqual({ condition: 'sta' });
    expect(redo(h)).toBe(h);
    // A new edit after undo drops the redo branch.
    h = commit(undo(h), a);
    expect(h.future).toEqual([]);
    let long = historyOf(a);
    for (let i = 0; i < HISTORY_LIMIT + 20; i++) long = commit(long, { ...a, name: `n${i}` });
    expect(long.past).toHaveLength(HISTORY_LIMIT);
  });
});
