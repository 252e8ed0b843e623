import type { DomainId } from '../domains/domain-ids.ts';
import { LabError, t } from '../errors/index.ts';
import { domainOf, type Rel } from '../ir/rel.ts';
import type { AggregateTable, PortValue } from '../pipeline/relation.ts';
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
}

/**
 * Where two domains meet. The encrypted-join work fills this in (PSI, homomorphic aggregation);
 * until then the planner refuses such pipelines with LAB-E067.
 */
export interface ProtocolStep {
  readonly kind: 'protocol';
  readonly id: string;
  readonly protocol: 'psi-cardinality' | 'psi-membership' | 'psi-grouped-sum';
  readonly domains: readonly DomainId[];
}

export type Stage = DomainStage | ProtocolStep;

export interface Plan {
  readonly stages: readonly Stage[];
  /** Catalog datasets the plan reads (for policy decisions and approval binding). */
  readonly datasets: readonly string[];
}

export function planPipeline(p: ValidPipeline): Plan {
  const memo = new Map<string, Record<string, Rel>>();
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
    const out = n.op.plan({ nodeId: id, params: n.params, inputs, inferredInputs });
    for (const r of Object.values(out)) {
      if (domainOf(r) === undefined) {
        throw new LabError('LAB-E067', {
          detail: t('该节点关联了两个部门的数据；跨部门碰撞需通过加密协议（PSI）完成', 'this node joins data of two departments; cross-department matching must go through an encrypted protocol (PSI)'),
          nodeId: id,
        });
      }
    }
    memo.set(id, out);
    return out;
  };

  const stages: Stage[] = [];
  const datasets = new Set<string>();
  for (const n of p.nodes) {
    if (n.op.category !== 'output') continue;
    const src = n.inputs['table'];
    if (!src) continue;
    const rel = planNode(src.node)[src.port];
    const table = p.byId.get(src.node)?.outputs[src.port];
    if (!rel || !table || table.kind !== 'table') throw new Error(`output ${n.node.id} has no table`);
    const domain = domainOf(rel);
    if (!domain) throw new Error('cross-domain plan slipped through');
    for (const d of table.datasets) datasets.add(d);
    const title = (n.params as { title?: string }).title;
    stages.push({ kind: 'domain', id: n.node.id, domain, outputNodeId: n.node.id, title, table, rel });
  }
  return { stages, datasets: [...datasets].sort() };
}
