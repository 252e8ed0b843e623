import { CATALOG, type Classification } from '../domains/catalog/index.ts';
import type { Rel } from '../ir/rel.ts';
import type { Plan } from './planner.ts';

/**
 * What a plan reads, for policy decisions (a run reading core-sensitive columns needs approval):
 * the highest classification among the columns it *uses* — filter predicates, derived columns,
 * join keys, tag rules, group keys and measures — and the departments it reads. Counting the unit
 * of a dataset (persons by ID number) does not raise the level: the count is what the guard
 * protects; using the ID number in a predicate or a join does.
 */
export interface PlanReads {
  /** 1 public … 4 core-sensitive (catalog L1–L4); 1 when nothing beyond the unit is used. */
  readonly maxLevel: number;
  readonly domains: readonly string[];
}

const LEVEL: Record<Classification, number> = { L1: 1, L2: 2, L3: 3, L4: 4 };

type Levels = ReadonlyMap<string, number>;

export function planReads(plan: Plan): PlanReads {
  let max = 1;
  const domains = new Set<string>();
  const use = (level: number | undefined) => { if (level !== undefined && level > max) max = level; };

  const walk = (r: Rel): Levels => {
    switch (r.kind) {
      case 'scan': {
        domains.add(r.domain);
        const ds = CATALOG.find((d) => d.domain === r.domain && d.table === r.table);
        return new Map(r.columns.map((c) => [c, LEVEL[ds?.columns.find((col) => col.name === c)?.level ?? 'L4']]));
      }
      case 'filter': {
        const cols = walk(r.input);
        use(LEVEL[r.predicate.info.level]);
        return cols;
      }
      case 'derive': {
        const cols = new Map(walk(r.input));
        for (const d of r.columns) {
          const l = LEVEL[d.expr.info.level];
          use(l);
          cols.set(d.name, l);
        }
        return cols;
      }
      case 'exists': {
        const cols = new Map(walk(r.input));
        const l = r.predicate ? LEVEL[r.predicate.info.level] : 1;
        use(l);
        cols.set(r.name, l);
        return cols;
      }
      case 'join': {
        const left = walk(r.left);
        const right = walk(r.right);
        use(left.get(r.leftKey) ?? 4);
        use(right.get(r.rightKey) ?? 4);
        for (const a of r.alsoKeys ?? []) { use(left.get(a.left) ?? 4); use(right.get(a.right) ?? 4); }
        const cols = new Map(left);
        for (const c of r.rightColumns) cols.set(c.as, right.get(c.from) ?? 4);
        return cols;
      }
      case 'member': {
        // Using the key to match across domains is using it (an identifier: the level it has).
        const cols = walk(r.input);
        use(cols.get(r.key) ?? 4);
        for (const c of r.alsoKeys ?? []) use(cols.get(c) ?? 4);
        return cols;
      }
      case 'face': {
        // The template is used (compared under encryption), the ID number too (the registry's
        // lookup); the outcome column is a category of three values.
        const cols = new Map(walk(r.input));
        use(cols.get(r.face.template) ?? 4);
        use(cols.get(r.face.lookup) ?? 4);
        cols.delete(r.face.template);
        cols.set(r.column, 2);
        return cols;
      }
      case 'tag': {
        const cols = new Map(walk(r.input));
        let l = 1;
        for (const tag of r.tags) l = Math.max(l, LEVEL[tag.rule.info.level]);
        use(l);
        cols.set(r.column, l);
        return cols;
      }
      case 'aggregate': {
        const cols = walk(r.input);
        for (const k of r.keys) use(cols.get(k) ?? 4);
        for (const m of r.measures) if (m.column !== undefined) use(cols.get(m.column) ?? 4);
        return new Map(r.keys.map((k) => [k, cols.get(k) ?? 4]));
      }
      case 'union': {
        const out = new Map<string, number>();
        for (const input of r.inputs) {
          for (const [c, l] of walk(input)) out.set(c, Math.max(l, out.get(c) ?? 1));
        }
        return out;
      }
    }
  };

  for (const s of plan.stages) {
    if (s.kind === 'domain') walk(s.rel);
    else if (s.kind === 'follow-up') walk(s.rel);
    else {
      for (const d of s.domains) domains.add(d);
      const r = walk(s.receiverRel);
      const x = walk(s.senderRel);
      use(r.get(s.receiverKey) ?? 4);
      use(x.get(s.senderKey) ?? 4);
      for (const c of s.receiverAlso ?? []) use(r.get(c) ?? 4);
      for (const c of s.senderAlso ?? []) use(x.get(c) ?? 4);
    }
  }
  return { maxLevel: max, domains: [...domains].sort() };
}
