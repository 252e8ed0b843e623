import type { AggregateTable } from '../../sandbox/pipeline/relation.ts';
import type { ValidPipeline } from '../../sandbox/pipeline/validate.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import type { SessionUser } from './auth.service.ts';
import { activePolicy } from './policy.service.ts';

type Db = Database<ControlSchema>;

export interface PreviewKey {
  readonly name: string;
  readonly geoLevel: string | null;
  /** Some grouping set leaves this key out: the table holds totals over it ("合计" rows), protected with the cells. */
  readonly margin: boolean;
}

export interface PreviewTable {
  /** The node this preview is for: a node making a table, or an output node (its input's table). */
  readonly nodeId: string;
  /** The node that makes the table. */
  readonly tableNodeId: string;
  readonly domain: string;
  readonly keys: PreviewKey[];
  readonly groupingSets: string[][];
  /** Counts: threshold and rounding. Sums and means: also the minimum count and dominance checks. */
  readonly measures: { readonly name: string; readonly kind: string; readonly dominance: boolean }[];
}

export interface DisclosurePreview {
  readonly rule: 'staff' | 'researcher-dp';
  readonly policyVersion: number;
  /** Cells of at most this many units are suppressed (with secondary suppression across margins). */
  readonly threshold: number;
  /** Released counts are rounded to multiples of this. */
  readonly rounding: number;
  /** Counts carry cell-key noise of at most ±d (null: none). */
  readonly cellKeyNoise: number | null;
  /** At most this many values per non-geography key. */
  readonly maxLevels: number;
  /** Researchers: differential privacy, ε charged per run, and an officer's review before release. */
  readonly dp: { readonly epsilon: string; readonly mechanism: string } | null;
  readonly review: boolean;
  readonly tables: PreviewTable[];
}

function tableOf(nodeId: string, tableNodeId: string, t: AggregateTable): PreviewTable {
  return {
    nodeId, tableNodeId, domain: t.domain,
    keys: t.keys.map((k) => ({ name: k.name, geoLevel: k.geoLevel ?? null, margin: t.groupingSets.some((s) => !s.includes(k.name)) })),
    groupingSets: t.groupingSets.map((set) => [...set]),
    measures: t.measures.map((m) => ({ name: m.name, kind: m.kind, dominance: m.kind === 'sum' || m.kind === 'mean' })),
  };
}

/**
 * What the disclosure guard will do with each table of a (valid) pipeline for this user: the
 * parameters of the policy in force for the user's role and, per table, its keys (which carry
 * totals) and measures. Computed from the document and the policy alone: no data is read. The p %
 * and dominance parameters stay confidential (DESIGN §5): only that the checks apply is said.
 */
export async function disclosurePreview(db: Db, user: SessionUser, p: ValidPipeline): Promise<DisclosurePreview> {
  const engine = await activePolicy(db);
  const researcher = user.role === 'researcher';
  const g = researcher ? engine.params.researcher : engine.params.staff;
  const byId = new Map(p.nodes.map((n) => [n.node.id, n]));
  const tables: PreviewTable[] = [];
  for (const n of p.nodes) {
    for (const v of Object.values(n.outputs)) if (v.kind === 'table') tables.push(tableOf(n.node.id, n.node.id, v));
    // An output node has no output port: its preview is its input's table.
    if (Object.keys(n.outputs).length === 0) {
      for (const ref of Object.values(n.inputs)) {
        const v = byId.get(ref.node)?.outputs[ref.port];
        if (v?.kind === 'table') tables.push(tableOf(n.node.id, ref.node, v));
      }
    }
  }
  return {
    rule: researcher ? 'researcher-dp' : 'staff', policyVersion: engine.version,
    threshold: g.threshold, rounding: g.rounding, cellKeyNoise: g.cellKeyNoise?.d ?? null, maxLevels: g.maxLevels,
    dp: researcher ? { epsilon: engine.params.dp.defaultEpsilon, mechanism: engine.params.dp.mechanism } : null,
    review: researcher, tables,
  };
}
