import { findOperator, type AnyOperator } from '../../operators/index.ts';
import { LabError, isLabError, t, type LabErrorBody, type Lang } from '../errors/index.ts';
import type { PortValue } from './relation.ts';
import type { z } from 'zod';
import { checkRawDocument, rawNodeId } from './raw-document.ts';
import { pipelineSpecSchema, type PipelineNode, type PipelineSpec } from './spec.ts';

export interface ValidatedNode {
  readonly node: PipelineNode;
  readonly op: AnyOperator;
  readonly params: unknown;
  /** Port name → the node and port it reads from. */
  readonly inputs: Readonly<Record<string, { readonly node: string; readonly port: string }>>;
  readonly outputs: Readonly<Record<string, PortValue>>;
}

export interface ValidPipeline {
  readonly spec: PipelineSpec;
  /** Nodes in dependency order. */
  readonly nodes: readonly ValidatedNode[];
  readonly byId: ReadonlyMap<string, ValidatedNode>;
}

export type Validation =
  | { readonly ok: true; readonly pipeline: ValidPipeline }
  | { readonly ok: false; readonly errors: readonly LabError[] };

const zodPath = (path: readonly PropertyKey[]) => path.map(String).join('.');
/** An issue's path; for an unknown key, the path of that key (so the field names it). */
const issuePath = (issue: z.core.$ZodIssue): readonly PropertyKey[] =>
  issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;

/**
 * Validates a pipeline document: shape, operators and their parameters, connections, cycles, then
 * schema and classification inference node by node. Collects one error per broken node (a node
 * downstream of a broken one is not inferred), so the canvas can mark every broken node at once.
 */
export function validatePipeline(doc: unknown): Validation {
  const raw = checkRawDocument(doc);
  if (raw) return { ok: false, errors: [raw] };
  const parsed = pipelineSpecSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? zodPath(issuePath(issue)) : '';
    const nodeId = issue?.path[0] === 'nodes' ? rawNodeId(doc, issue.path[1]) : undefined;
    return {
      ok: false,
      errors: [new LabError('LAB-E003', {
        detail: t(`${path || '流程'}：${issue?.message ?? '格式错误'}`, `${path || 'pipeline'}: ${issue?.message ?? 'invalid'}`),
        field: path, ...(nodeId ? { nodeId } : {}),
      })],
    };
  }
  const spec = parsed.data;
  const errors: LabError[] = [];
  const seen = new Set<string>();
  for (const n of spec.nodes) {
    if (seen.has(n.id)) errors.push(new LabError('LAB-E064', { detail: t(`节点编号 ${n.id} 重复`, `node id ${n.id} is used twice`), nodeId: n.id, field: 'id' }));
    seen.add(n.id);
  }
  if (errors.length) return { ok: false, errors };

  // Operators and parameters.
  const prepared = new Map<string, { node: PipelineNode; op: AnyOperator; params: unknown }>();
  for (const n of spec.nodes) {
    const op = findOperator(n.op);
    if (!op) {
      errors.push(new LabError('LAB-E060', { detail: t(`没有算子 ${n.op}`, `there is no operator ${n.op}`), nodeId: n.id, field: 'op' }));
      continue;
    }
    const p = op.params.safeParse(n.params);
    if (!p.success) {
      const issue = p.error.issues[0];
      const field = `params${issue && issue.path.length ? `.${zodPath(issue.path)}` : ''}`;
      errors.push(new LabError('LAB-E003', { detail: t(`${field}：${issue?.message ?? '参数错误'}`, `${field}: ${issue?.message ?? 'invalid parameters'}`), nodeId: n.id, field }));
      continue;
    }
    prepared.set(n.id, { node: n, op, params: p.data });
  }

  // Connections: every declared input connected to an existing node's existing output port.
  const edges = new Map<string, Record<string, { node: string; port: string }>>();
  for (const { node, op } of prepared.values()) {
    const resolved: Record<string, { node: string; port: string }> = {};
    for (const port of Object.keys(node.inputs)) {
      if (!(port in op.inputs)) errors.push(new LabError('LAB-E061', { detail: t(`算子 ${op.id} 没有输入端口 ${port}`, `operator ${op.id} has no input port ${port}`), nodeId: node.id, field: `inputs.${port}` }));
    }
    for (const port of Object.keys(op.inputs)) {
      const ref = node.inputs[port];
      if (!ref) {
        errors.push(new LabError('LAB-E061', { detail: t(`输入端口 ${port} 未连接`, `input port ${port} is not connected`), nodeId: node.id, field: `inputs.${port}` }));
        continue;
      }
      const [srcId = '', srcPortGiven] = ref.split('.');
      const src = spec.nodes.find((x) => x.id === srcId);
      const srcOp = src ? findOperator(src.op) : undefined;
      if (!src) {
        errors.push(new LabError('LAB-E061', { detail: t(`输入 ${port} 指向不存在的节点 ${srcId}`, `input ${port} points to a node that does not exist: ${srcId}`), nodeId: node.id, field: `inputs.${port}` }));
        continue;
      }
      if (!srcOp) continue; // reported above
      const outPorts = Object.keys(srcOp.outputs);
      const srcPort = srcPortGiven ?? (outPorts.length === 1 ? outPorts[0] : undefined);
      if (!srcPort || !outPorts.includes(srcPort)) {
        errors.push(new LabError('LAB-E061', { detail: t(`节点 ${srcId} 没有输出端口 ${srcPortGiven ?? ''}`, `node ${srcId} has no output port ${srcPortGiven ?? '(it has none or several)'}`), nodeId: node.id, field: `inputs.${port}` }));
        continue;
      }
      const want = op.inputs[port];
      const have = srcOp.outputs[srcPort];
      if (want !== have) {
        errors.push(new LabError('LAB-E061', {
          detail: t(`输入 ${port} 需要${want === 'rows' ? '明细数据' : '统计表'}，但 ${srcId} 输出的是${have === 'rows' ? '明细数据' : '统计表'}`,
            `input ${port} needs ${want === 'rows' ? 'row data' : 'an aggregate table'}, but ${srcId} gives ${have === 'rows' ? 'row data' : 'an aggregate table'}`),
          nodeId: node.id, field: `inputs.${port}`,
        }));
        continue;
      }
      resolved[port] = { node: srcId, port: srcPort };
    }
    edges.set(node.id, resolved);
  }
  if (errors.length) return { ok: false, errors };

  // Cycles (Kahn's algorithm).
  const indegree = new Map<string, number>();
  const users = new Map<string, string[]>();
  for (const id of prepared.keys()) { indegree.set(id, 0); users.set(id, []); }
  for (const [id, ins] of edges) {
    for (const { node: src } of Object.values(ins)) {
      indegree.set(id, (indegree.get(id) ?? 0) + 1);
      users.get(src)?.push(id);
    }
  }
  const order: string[] = [];
  const ready = [...indegree].filter(([, d]) => d === 0).map(([id]) => id);
  while (ready.length) {
    const id = ready.shift() as string;
    order.push(id);
    for (const u of users.get(id) ?? []) {
      const d = (indegree.get(u) ?? 0) - 1;
      indegree.set(u, d);
      if (d === 0) ready.push(u);
    }
  }
  if (order.length !== prepared.size) {
    const inCycle = [...indegree].filter(([, d]) => d > 0).map(([id]) => id);
    return { ok: false, errors: [new LabError('LAB-E066', { detail: t(`这些节点构成环：${inCycle.join('、')}`, `these nodes form a cycle: ${inCycle.join(', ')}`), nodeId: inCycle[0] ?? '', field: 'inputs' })] };
  }

  // Inference, node by node.
  const done = new Map<string, ValidatedNode>();
  const failed = new Set<string>();
  for (const id of order) {
    const p = prepared.get(id);
    const ins = edges.get(id) ?? {};
    if (!p) continue;
    if (Object.values(ins).some((x) => failed.has(x.node))) { failed.add(id); continue; }
    const inputs: Record<string, PortValue> = {};
    for (const [port, src] of Object.entries(ins)) {
      const v = done.get(src.node)?.outputs[src.port];
      if (v) inputs[port] = v;
    }
    try {
      const outputs = p.op.infer({ nodeId: id, params: p.params, inputs });
      done.set(id, { node: p.node, op: p.op, params: p.params, inputs: ins, outputs });
    } catch (e) {
      failed.add(id);
      if (isLabError(e)) errors.push(e.nodeId ? e : new LabError(e.code, { ...(e.detail ? { detail: e.detail } : {}), nodeId: id, ...(e.field ? { field: e.field } : {}) }));
      else throw e;
    }
  }
  if (errors.length) return { ok: false, errors };
  if (![...done.values()].some((n) => n.op.category === 'output')) {
    return { ok: false, errors: [new LabError('LAB-E068', { detail: t('请添加“输出结果”节点', 'add an Output node'), field: 'nodes' })] };
  }
  const nodes = order.map((id) => done.get(id)).filter((n): n is ValidatedNode => n !== undefined);
  return { ok: true, pipeline: { spec, nodes, byId: new Map(nodes.map((n) => [n.node.id, n])) } };
}

/** Wire form of validation errors. */
export const errorBodies = (errors: readonly LabError[], lang: Lang): LabErrorBody[] => errors.map((e) => e.toBody(lang));
