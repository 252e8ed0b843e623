import type { DomainId } from '../domains/domain-ids.ts';
import { LabError, t } from '../errors/index.ts';
import { domainOf, memberSteps, rel, type FaceCompareSpec, type Rel } from '../ir/rel.ts';
import type { AggregateTable, PortValue, RelColumn, RowsRelation } from '../pipeline/relation.ts';
import type { ValidPipeline } from '../pipeline/validate.ts';

/** SQL that runs inside one domain and yields one aggregate table (guarded there before it leaves). */
export interface DomainStage {
  readonly kind: 'domain';
  /** Stable within a job: the output node's id. */
  readonly id: string;
  readonly domain: DomainId;
  readonly outputNodeId: string;
  readonly title: string | undefined;
  readonly table: AggregateTable;
  readonly rel: Rel;
  /** Protocol steps that must have ended before this stage runs (their members are read here). */
  readonly after: readonly string[];
}

/**
 * A row-level list kept inside its domain (I6): the distinct privacy units of `rel` written to the
 * domain's follow-up outbox, visible to that domain's stewards only. Only its guarded count leaves.
 */
export interface FollowUpStage {
  readonly kind: 'follow-up';
  /** The follow-up node's id. */
  readonly id: string;
  readonly domain: DomainId;
  readonly title: string;
  readonly rel: Rel;
  readonly unitColumn: string;
  readonly unitKind: 'person' | 'house' | 'event';
  readonly datasets: readonly string[];
  readonly after: readonly string[];
}

/**
 * Where two domains meet: a semi or anti join across domains on an identifier becomes a PSI step;
 * a face-verify node becomes a `face-compare` step (the probe holder, the visits' domain, is the
 * receiver; the registry, holding the reference templates, the sender; docs/protocols.md).
 * The receiver (the left input's domain) learns which of its rows' keys the sender (the right
 * input's domain) holds and writes them into its own `lab_psi_member`; the sender learns the size
 * of the receiver's list; the coordinator relays blinded points only (docs/protocols.md).
 */
export interface ProtocolStep {
  readonly kind: 'protocol';
  /** `psi~<join node id>` or `face~<face-verify node id>`: `~` never occurs in a node id, so a step never shares an output's id. */
  readonly id: string;
  readonly protocol: 'psi-cardinality' | 'psi-membership' | 'psi-grouped-sum' | 'face-compare';
  /** Receiver first, then sender. */
  readonly domains: readonly DomainId[];
  readonly nodeId: string;
  readonly receiver: DomainId;
  readonly sender: DomainId;
  /** Each side's rows, planned inside its own domain. */
  readonly receiverRel: Rel;
  readonly senderRel: Rel;
  readonly receiverKey: string;
  readonly senderKey: string;
  /**
   * Further columns of each side appended to the key in the item (`ID‖district`, a join's
   * `alsoMatch`: geography codes only), in the same order on both sides. Absent: the key alone.
   */
  readonly receiverAlso?: readonly string[];
  readonly senderAlso?: readonly string[];
  readonly after: readonly string[];
  /** face-compare only: the columns, model, dimension and threshold of the comparison. */
  readonly face?: FaceCompareSpec;
}

export type Stage = DomainStage | FollowUpStage | ProtocolStep;

export interface Plan {
  readonly stages: readonly Stage[];
  /** Catalog datasets the plan reads (for policy decisions and approval binding). */
  readonly datasets: readonly string[];
}

/** The step id of a cross-domain join node. */
export const protocolStepId = (nodeId: string) => `psi~${nodeId}`;
export const isProtocolStepId = (id: string) => id.startsWith('psi~') || id.startsWith('face~');

/** The registry's reference templates as the sender side of a face-compare step reads them (a parameterised lookup). */
const REFERENCE_REL = rel.scan('registry', 'reference_photo', ['id_number', 'model_id', 'template']);

/** A face-verify node's rel (its `face` node) becomes a face-compare step: probe holder the input's domain, reference holder the registry. */
function faceStep(nodeId: string, r: Extract<Rel, { kind: 'face' }>): ProtocolStep {
  const receiver = domainOf(r.input);
  if (!receiver) {
    throw new LabError('LAB-E067', { detail: t('人证核验的输入跨了部门；请接在网格走访数据之后', 'the input of face verification spans departments; connect it to the grid visits'), nodeId });
  }
  return {
    kind: 'protocol', id: r.stepId, protocol: 'face-compare', domains: [receiver, 'registry'], nodeId, receiver, sender: 'registry',
    receiverRel: r.input, senderRel: REFERENCE_REL, receiverKey: r.face.lookup, senderKey: 'id_number',
    after: memberSteps(r.input), face: r.face,
  };
}

/** May this column take part in a cross-domain match? ID numbers, and houses' normalised address keys. */
function protocolKeyKind(c: RelColumn): 'id_number' | 'address_key' | undefined {
  if (c.semantic === 'id_number') return 'id_number';
  if (c.semantic === 'address' && c.name === 'address_key') return 'address_key';
  return undefined;
}

/**
 * A join whose inputs are in two domains: a semi/anti join on identifiers becomes a protocol step
 * and the left side a `member` node; anything else is refused (LAB-E161, LAB-E160).
 */
function crossDomainJoin(nodeId: string, r: Extract<Rel, { kind: 'join' }>, left: RowsRelation, right: RowsRelation): { step: ProtocolStep; rel: Rel } {
  const receiver = domainOf(r.left);
  const sender = domainOf(r.right);
  if (!receiver || !sender) {
    throw new LabError('LAB-E067', { detail: t('关联的某一侧本身跨了部门；请先在各部门内分别整理', 'one side of this join already spans departments; prepare each side inside its own department first'), nodeId });
  }
  if (r.joinType !== 'semi' && r.joinType !== 'anti') {
    throw new LabError('LAB-E161', {
      detail: t(`跨部门（${receiver} 与 ${sender}）只能做“存在匹配”或“不存在匹配”，不能做${r.joinType === 'inner' ? '内连接' : '左连接'}：明细不能带到另一部门`,
        `across departments (${receiver} and ${sender}) only semi and anti joins are possible, not ${r.joinType}: no row may be brought into another department`),
      hint: t('把类型改为 semi（存在匹配）或 anti（不存在匹配）；需要对方的数值时请用加密求和协议', 'Set the type to semi or anti; for the other side\u2019s values an encrypted-sum protocol is needed'),
      nodeId, field: 'params.type',
    });
  }
  const lk = left.columns.find((c) => c.name === r.leftKey);
  const rk = right.columns.find((c) => c.name === r.rightKey);
  const lKind = lk && protocolKeyKind(lk);
  const rKind = rk && protocolKeyKind(rk);
  if (!lKind || lKind !== rKind) {
    throw new LabError('LAB-E160', {
      detail: t(`跨部门匹配的键须同为身份号码或同为标准地址编码（${r.leftKey} / ${r.rightKey}）`, `keys of a cross-department match must both be ID numbers or both normalised address keys (${r.leftKey} / ${r.rightKey})`),
      nodeId, field: lKind ? 'params.rightKey' : 'params.leftKey',
    });
  }
  // An identifier-derived item: the ID number (or address key) ‖ geography codes of the same level
  // on both sides (e.g. "registered in this district" against "lives in this district"). The
  // composite is built in each domain's item SQL only: it is never a column, never grouped or output.
  const also = r.alsoKeys ?? [];
  also.forEach((a, i) => {
    const lc = left.columns.find((c) => c.name === a.left);
    const rc = right.columns.find((c) => c.name === a.right);
    if (!lc || !rc || lc.semantic !== 'geo_code' || rc.semantic !== 'geo_code' || lc.geoLevel === undefined || lc.geoLevel !== rc.geoLevel) {
      throw new LabError('LAB-E167', {
        detail: t(`跨部门匹配的附加匹配列须两侧同为同级地理编码（${a.left} / ${a.right}）`, `extra match columns of a cross-department match must be geography codes of the same level on both sides (${a.left} / ${a.right})`),
        hint: t('如身份号码加户籍区划代码对身份号码加居住区划代码', 'e.g. ID number with registered district code against ID number with residence district code'),
        nodeId, field: `params.alsoMatch.${i}`,
      });
    }
  });
  const id = protocolStepId(nodeId);
  const step: ProtocolStep = {
    kind: 'protocol', id, protocol: 'psi-membership', domains: [receiver, sender], nodeId, receiver, sender,
    receiverRel: r.left, senderRel: r.right, receiverKey: r.leftKey, senderKey: r.rightKey,
    ...(also.length > 0 ? { receiverAlso: also.map((a) => a.left), senderAlso: also.map((a) => a.right) } : {}),
    after: [...new Set([...memberSteps(r.left), ...memberSteps(r.right)])],
  };
  return { step, rel: rel.member(r.left, r.leftKey, id, r.joinType === 'anti', also.map((a) => a.left)) };
}

export function planPipeline(p: ValidPipeline): Plan {
  const memo = new Map<string, Record<string, Rel>>();
  const steps = new Map<string, ProtocolStep>();
  const planNode = (id: string): Record<string, Rel> => {
    const cached = memo.get(id);
    if (cached) return cached;
    const n = p.byId.get(id);
    if (!n) throw new Error(`planning unknown node ${id}`);
    const inputs: Record<string, Rel> = {};
    const inferredInputs: Record<string, PortValue> = {};
    for (const [port, src] of Object.entries(n.inputs)) {
      const r = planNode(src.node)[src.port];
      const v = p.byId.get(src.node)?.outputs[src.port];
      if (!r || !v) throw new Error(`no plan for ${src.node}.${src.port}`);
      inputs[port] = r;
      inferredInputs[port] = v;
    }
    const out: Record<string, Rel> = { ...n.op.plan({ nodeId: id, params: n.params, inputs, inferredInputs }) };
    for (const [port, r] of Object.entries(out)) {
      if (r.kind === 'face' && !steps.has(r.stepId)) steps.set(r.stepId, faceStep(id, r));
      if (domainOf(r) !== undefined) continue;
      const left = inferredInputs['left'];
      const right = inferredInputs['right'];
      if (r.kind === 'join' && left?.kind === 'rows' && right?.kind === 'rows') {
        const { step, rel: member } = crossDomainJoin(id, r, left, right);
        steps.set(step.id, step);
        out[port] = member;
        continue;
      }
      throw new LabError('LAB-E067', {
        detail: t('该节点关联了两个部门的数据；跨部门碰撞需通过加密协议（PSI）完成', 'this node joins data of two departments; cross-department matching must go through an encrypted protocol (PSI)'),
        nodeId: id,
      });
    }
    memo.set(id, out);
    return out;
  };

  const stages: Stage[] = [];
  const datasets = new Set<string>();
  const used = new Set<string>();
  const need = (after: readonly string[]) => {
    for (const s of after) {
      if (used.has(s)) continue;
      const step = steps.get(s);
      if (!step) throw new Error(`plan reads the members of unknown step ${s}`);
      need(step.after);
      used.add(s);
    }
  };
  for (const n of p.nodes) {
    if (n.op.category !== 'output') continue;
    const tableSrc = n.inputs['table'];
    const rowsSrc = n.inputs['rows'];
    if (rowsSrc) {
      const rel = planNode(rowsSrc.node)[rowsSrc.port];
      const rows = p.byId.get(rowsSrc.node)?.outputs[rowsSrc.port];
      if (!rel || !rows || rows.kind !== 'rows') throw new Error(`follow-up ${n.node.id} has no rows`);
      const domain = domainOf(rel);
      if (!domain) throw new Error('cross-domain plan slipped through');
      for (const d of rows.datasets) datasets.add(d);
      const after = memberSteps(rel);
      need(after);
      const title = (n.params as { title?: string }).title ?? n.node.id;
      stages.push({ kind: 'follow-up', id: n.node.id, domain, title, rel, unitColumn: rows.unit.column, unitKind: rows.unit.kind, datasets: rows.datasets, after });
      continue;
    }
    if (!tableSrc) continue;
    const rel = planNode(tableSrc.node)[tableSrc.port];
    const table = p.byId.get(tableSrc.node)?.outputs[tableSrc.port];
    if (!rel || !table || table.kind !== 'table') throw new Error(`output ${n.node.id} has no table`);
    const domain = domainOf(rel);
    if (!domain) throw new Error('cross-domain plan slipped through');
    for (const d of table.datasets) datasets.add(d);
    const title = (n.params as { title?: string }).title;
    const after = memberSteps(rel);
    need(after);
    stages.push({ kind: 'domain', id: n.node.id, domain, outputNodeId: n.node.id, title, table, rel, after });
  }
  // Protocol steps first, each after the steps it reads (a topological order), then the stages.
  const ordered: ProtocolStep[] = [];
  const placed = new Set<string>();
  const place = (id: string) => {
    if (placed.has(id)) return;
    const step = steps.get(id);
    if (!step) return;
    for (const a of step.after) place(a);
    placed.add(id);
    ordered.push(step);
  };
  for (const id of used) place(id);
  return { stages: [...ordered, ...stages], datasets: [...datasets].sort() };
}
