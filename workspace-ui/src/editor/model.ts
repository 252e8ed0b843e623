/**
 * The pipeline being edited, free of React and of the canvas library (as React Flow keeps its
 * canvas logic in @xyflow/system): nodes, connections between ports, the checks a connection must
 * pass, the conversion to and from the pipeline document the API takes, and undo/redo over
 * immutable snapshots. Every function returns a new document; nothing is mutated.
 */
import type { PipelineDocument, PipelineNodeDoc, PortType } from '../api/types.ts';

export interface XY { readonly x: number; readonly y: number }

export interface EditorNode {
  readonly id: string;
  /** `<operator id>@<version>` */
  readonly op: string;
  readonly label?: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly position: XY;
}

export interface EditorEdge {
  readonly source: string;
  /** Empty when the document used the short form for an operator this workspace does not know. */
  readonly sourcePort: string;
  readonly target: string;
  readonly targetPort: string;
}

export interface EditorDoc {
  readonly name: string;
  readonly description?: string;
  readonly nodes: readonly EditorNode[];
  readonly edges: readonly EditorEdge[];
}

export interface Ports {
  readonly inputs: Readonly<Record<string, PortType>>;
  readonly outputs: Readonly<Record<string, PortType>>;
}

/** Looks up an operator's ports by `id@version`; undefined for an operator the lab does not have. */
export type PortsOf = (op: string) => Ports | undefined;

export const NODE_ID = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export const emptyDoc = (name: string): EditorDoc => ({ name, nodes: [], edges: [] });

export const edgeId = (e: EditorEdge): string => `${e.source}.${e.sourcePort}->${e.target}.${e.targetPort}`;

/** Reads a pipeline document (an example, a saved pipeline) into the editor's form. */
export function fromDocument(doc: PipelineDocument, portsOf: PortsOf): EditorDoc {
  const edges: EditorEdge[] = [];
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const nodes = doc.nodes.map((n, i): EditorNode => {
    for (const [targetPort, ref] of Object.entries(n.inputs ?? {})) {
      const dot = ref.indexOf('.');
      const source = dot < 0 ? ref : ref.slice(0, dot);
      let sourcePort = dot < 0 ? '' : ref.slice(dot + 1);
      if (!sourcePort) {
        const src = byId.get(source);
        const outs = src ? Object.keys(portsOf(src.op)?.outputs ?? {}) : [];
        if (outs.length === 1) sourcePort = outs[0] ?? '';
      }
      edges.push({ source, sourcePort, target: n.id, targetPort });
    }
    return {
      id: n.id, op: n.op,
      ...(n.label !== undefined ? { label: n.label } : {}),
      params: { ...(n.params ?? {}) },
      position: n.position ?? { x: 240 * i, y: 0 },
    };
  });
  return { name: doc.name, ...(doc.description !== undefined ? { description: doc.description } : {}), nodes, edges };
}

/** The document the API validates, saves and runs. */
export function toDocument(doc: EditorDoc): PipelineDocument {
  const nodes = doc.nodes.map((n): PipelineNodeDoc => {
    const inputs: Record<string, string> = {};
    for (const e of doc.edges) if (e.target === n.id) inputs[e.targetPort] = e.sourcePort ? `${e.source}.${e.sourcePort}` : e.source;
    return {
      id: n.id, op: n.op,
      ...(n.label ? { label: n.label } : {}),
      ...(Object.keys(inputs).length ? { inputs } : {}),
      params: n.params,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    };
  });
  return { specVersion: 1, name: doc.name, ...(doc.description ? { description: doc.description } : {}), nodes };
}

/** A fresh id for a node of operator `opId`: `filter_1`, `filter_2`, … */
export function newNodeId(doc: EditorDoc, opId: string): string {
  const base = /^[A-Za-z]/.test(opId) ? opId : `n${opId}`;
  const taken = new Set(doc.nodes.map((n) => n.id));
  for (let i = 1; ; i++) {
    const id = `${base}_${i}`.slice(0, 64);
    if (!taken.has(id)) return id;
  }
}

export function addNode(doc: EditorDoc, node: Omit<EditorNode, 'id'> & { readonly id?: string }, opId: string): { doc: EditorDoc; id: string } {
  const id = node.id ?? newNodeId(doc, opId);
  return { doc: { ...doc, nodes: [...doc.nodes, { ...node, id }] }, id };
}

export function removeElements(doc: EditorDoc, nodeIds: Iterable<string>, edgeIds: Iterable<string> = []): EditorDoc {
  const nodes = new Set(nodeIds);
  const edges = new Set(edgeIds);
  if (nodes.size === 0 && edges.size === 0) return doc;
  return {
    ...doc,
    nodes: doc.nodes.filter((n) => !nodes.has(n.id)),
    edges: doc.edges.filter((e) => !edges.has(edgeId(e)) && !nodes.has(e.source) && !nodes.has(e.target)),
  };
}

export function moveNodes(doc: EditorDoc, positions: ReadonlyMap<string, XY>): EditorDoc {
  if (positions.size === 0) return doc;
  return { ...doc, nodes: doc.nodes.map((n) => { const p = positions.get(n.id); return p ? { ...n, position: p } : n; }) };
}

export function updateNode(doc: EditorDoc, id: string, patch: { readonly params?: Readonly<Record<string, unknown>>; readonly label?: string }): EditorDoc {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      if (n.id !== id) return n;
      const { label: _old, ...rest } = n;
      const label = patch.label !== undefined ? patch.label : n.label;
      return { ...rest, ...(label ? { label } : {}), params: patch.params ?? n.params };
    }),
  };
}

export interface Connection {
  readonly source: string;
  readonly sourcePort: string;
  readonly target: string;
  readonly targetPort: string;
}

/** Why a connection is refused; the canvas says it in words while the user drags. */
export type ConnectionProblem =
  | { readonly kind: 'self' }
  | { readonly kind: 'unknown-port' }
  | { readonly kind: 'type-mismatch'; readonly from: PortType; readonly to: PortType }
  | { readonly kind: 'cycle' };

/** Node ids downstream of `from` (following connections), `from` included. */
export function downstream(doc: EditorDoc, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length) {
    const id = stack.pop() ?? '';
    for (const e of doc.edges) if (e.source === id && !seen.has(e.target)) { seen.add(e.target); stack.push(e.target); }
  }
  return seen;
}

/** Node ids upstream of `to` (what it reads, directly or not), `to` included. */
export function upstream(doc: EditorDoc, to: string): Set<string> {
  const seen = new Set<string>([to]);
  const stack = [to];
  while (stack.length) {
    const id = stack.pop() ?? '';
    for (const e of doc.edges) if (e.target === id && !seen.has(e.source)) { seen.add(e.source); stack.push(e.source); }
  }
  return seen;
}

export function connectionProblem(doc: EditorDoc, portsOf: PortsOf, c: Connection): ConnectionProblem | undefined {
  if (c.source === c.target) return { kind: 'self' };
  const source = doc.nodes.find((n) => n.id === c.source);
  const target = doc.nodes.find((n) => n.id === c.target);
  const from = source ? portsOf(source.op)?.outputs[c.sourcePort] : undefined;
  const to = target ? portsOf(target.op)?.inputs[c.targetPort] : undefined;
  if (!from || !to) return { kind: 'unknown-port' };
  if (from !== to) return { kind: 'type-mismatch', from, to };
  // The edge this one would replace goes into the target, so it cannot be part of a path from it.
  if (downstream(doc, c.target).has(c.source)) return { kind: 'cycle' };
  return undefined;
}

/** Connects two ports; an input port reads from one place, so an earlier connection into it is replaced. */
export function connect(doc: EditorDoc, c: Connection): EditorDoc {
  const edges = doc.edges.filter((e) => !(e.target === c.target && e.targetPort === c.targetPort));
  return { ...doc, edges: [...edges, { source: c.source, sourcePort: c.sourcePort, target: c.target, targetPort: c.targetPort }] };
}

// ---------------------------------------------------------------------------------------------
// Undo / redo

export interface History {
  readonly past: readonly EditorDoc[];
  readonly present: EditorDoc;
  readonly future: readonly EditorDoc[];
  /** Consecutive edits of the same group (typing into one field) make one undo step. */
  readonly group?: string;
}

export const HISTORY_LIMIT = 100;

export const historyOf = (doc: EditorDoc): History => ({ past: [], present: doc, future: [] });

export function commit(h: History, doc: EditorDoc, group?: string): History {
  if (doc === h.present) return h;
  if (group !== undefined && group === h.group) return { ...h, present: doc, future: [] };
  return { past: [...h.past, h.present].slice(-HISTORY_LIMIT), present: doc, future: [], ...(group !== undefined ? { group } : {}) };
}

export function undo(h: History): History {
  const prev = h.past[h.past.length - 1];
  if (!prev) return h;
  return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo(h: History): History {
  const [next, ...rest] = h.future;
  if (!next) return h;
  return { past: [...h.past, h.present], present: next, future: rest };
}

// ---------------------------------------------------------------------------------------------
// Copy / paste

/** Copied nodes and the connections among them (connections to nodes left behind are not copied). */
export interface Clip {
  readonly nodes: readonly EditorNode[];
  readonly edges: readonly EditorEdge[];
}

export function copySelection(doc: EditorDoc, ids: Iterable<string>): Clip {
  const wanted = new Set(ids);
  return {
    nodes: doc.nodes.filter((n) => wanted.has(n.id)),
    edges: doc.edges.filter((e) => wanted.has(e.source) && wanted.has(e.target)),
  };
}

/** The operator id of `id@version` (the base of fresh node ids). */
const opIdOf = (op: string): string => {
  const at = op.indexOf('@');
  return at < 0 ? op : op.slice(0, at);
};

/**
 * Pastes a clip: every node gets a fresh id (as if added from the palette) and moves by `offset`;
 * the copied connections follow their nodes. Returns the new document and the new ids (in clip order).
 */
export function pasteClip(doc: EditorDoc, clip: Clip, offset: XY): { doc: EditorDoc; ids: readonly string[] } {
  let out = doc;
  const idOf = new Map<string, string>();
  for (const n of clip.nodes) {
    const id = newNodeId(out, opIdOf(n.op));
    idOf.set(n.id, id);
    out = { ...out, nodes: [...out.nodes, { ...n, id, position: { x: n.position.x + offset.x, y: n.position.y + offset.y } }] };
  }
  const edges: EditorEdge[] = [];
  for (const e of clip.edges) {
    const source = idOf.get(e.source);
    const target = idOf.get(e.target);
    if (source && target) edges.push({ ...e, source, target });
  }
  return { doc: { ...out, edges: [...out.edges, ...edges] }, ids: clip.nodes.map((n) => idOf.get(n.id) ?? '') };
}
