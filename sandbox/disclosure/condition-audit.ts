import { compileExpression } from '../compile/expr.compile.ts';
import { ident } from '../compile/identifiers.ts';
import { compileRel, type CompileOptions, type CompiledQuery } from '../compile/plan.compile.ts';
import { SqlParams } from '../compile/sql-params.ts';
import { LabError, t, type Span } from '../errors/index.ts';
import type { Expr } from '../expr/ast.ts';
import type { Checked } from '../expr/check.ts';
import { originOf, type PlanOrigin } from '../ir/origin.ts';
import { rel, type Rel } from '../ir/rel.ts';

/**
 * The condition audit (docs/disclosure.md, "Conditions that single out persons"): a staff
 * table is refused when any condition it is built from — a filter's condition or any part of it,
 * a condition inside a derived column — holds for at most `threshold` persons, or fails for at most
 * `threshold` persons, of the population it is applied to *before any filter*.
 *
 * Why: the release ledger and the guard compare cells, and a cell says nothing about how its
 * population was chosen. Differencing (P, then P without one person), trackers (P ∪ U, V, U ∪ V
 * with the target inside P) and their variants under renamed keys all need a condition that
 * picks out one person (or all but one). Such a condition is refused whatever the person's
 * secret is: its counts are taken over the population before filters, where the person is present
 * either way, and no count is ever shown (a refused condition is named, its counts are not).
 * 0 counts as few: a condition true for nobody, or for everybody, is refused too — otherwise
 * "X AND has hypertension" would be refused exactly when the person has hypertension.
 *
 * What it does not see (docs/privacy-attacks.md): conditions inside tag rules (the tag library is
 * reviewed data), the right side of joins and `exists` predicates, and numeric expressions that
 * single out a person without a condition (e.g. a measure that is 1 for everyone but one person);
 * those are left to the guard (the non-zero contributor threshold, rounding, the ledger).
 */

export interface ConditionProbe {
  readonly origin: PlanOrigin | undefined;
  readonly span: Span;
}

export interface ConditionAuditQuery {
  readonly query: CompiledQuery;
  /** Column `i{k}` counts the persons for whom probe k holds, `o{k}` those for whom it does not. */
  readonly probes: readonly ConditionProbe[];
}

interface PendingProbe extends ConditionProbe { readonly checked: Checked; readonly expr: Expr }

/** The boolean parts of a checked expression that read at least one column. */
export function conditionsOf(checked: Checked): Expr[] {
  const out: Expr[] = [];
  const readsColumn = new Map<Expr, boolean>();
  const visit = (e: Expr): boolean => {
    let reads = false;
    switch (e.kind) {
      case 'column': reads = true; break;
      case 'literal': break;
      case 'unary': reads = visit(e.operand); break;
      case 'binary': { const l = visit(e.left); const r = visit(e.right); reads = l || r; break; }
      case 'between': { const a = visit(e.operand); const b = visit(e.low); const c = visit(e.high); reads = a || b || c; break; }
      case 'in': { reads = visit(e.operand); for (const i of e.items) reads = visit(i) || reads; break; }
      case 'isNull': reads = visit(e.operand); break;
      case 'case': {
        for (const w of e.whens) { const a = visit(w.when); const b = visit(w.then); reads = reads || a || b; }
        if (e.otherwise) reads = visit(e.otherwise) || reads;
        break;
      }
      case 'call': for (const a of e.args) reads = visit(a) || reads; break;
    }
    readsColumn.set(e, reads);
    // NOT c holds where c fails (up to NULLs): c's own probe covers it.
    if (reads && checked.types.get(e) === 'boolean' && !(e.kind === 'unary' && e.op === 'NOT')) out.push(e);
    return reads;
  };
  visit(checked.expr);
  return out;
}

/**
 * The plan with every filter removed (the population each condition is judged on). Plan nodes
 * are immutable; the copies are memoised so that equal inputs compile to one relation.
 */
function withoutFilters(root: Rel, memo: Map<Rel, Rel>): Rel {
  const strip = (r: Rel): Rel => {
    const known = memo.get(r);
    if (known) return known;
    let out: Rel;
    switch (r.kind) {
      case 'scan': out = r; break;
      case 'filter': out = strip(r.input); break;
      case 'derive': out = rel.derive(strip(r.input), r.columns); break;
      case 'exists': out = rel.exists(strip(r.input), r.name, r.unitColumn, r.table, r.tableUnitColumn, r.predicate); break;
      // The right side of a join chooses which left rows stay: it is kept as it is.
      case 'join': out = rel.join(r.joinType, strip(r.left), r.right, r.leftKey, r.rightKey, r.rightColumns); break;
      case 'aggregate': out = rel.aggregate(strip(r.input), r.keys, r.groupingSets, r.measures, r.unitColumn, r.unitUnique); break;
      case 'tag': out = rel.tag(strip(r.input), r.column, r.tags); break;
      case 'union': out = rel.union(r.inputs.map(strip), r.columns); break;
      case 'member': out = rel.member(strip(r.input), r.key, r.stepId, r.negate); break;
      case 'face': out = rel.face(strip(r.input), r.stepId, r.face, r.column); break;
    }
    memo.set(r, out);
    return out;
  };
  return strip(root);
}

/**
 * The audit queries of a stage's aggregate (one per population the conditions are judged on),
 * or none when the plan has no condition to judge.
 */
export function planConditionAudit(aggregate: Rel, asOf: string, options: CompileOptions = {}): ConditionAuditQuery[] {
  if (aggregate.kind !== 'aggregate') return [];
  const unit = aggregate.unitColumn;
  const countUnits = aggregate.unitUnique ? 'count(*)' : `count(DISTINCT q.${ident(unit)})`;
  const memo = new Map<Rel, Rel>();
  const byPopulation = new Map<Rel, PendingProbe[]>();
  const add = (population: Rel, checked: Checked, origin: PlanOrigin | undefined) => {
    const base = withoutFilters(population, memo);
    let list = byPopulation.get(base);
    if (!list) { list = []; byPopulation.set(base, list); }
    for (const expr of conditionsOf(checked)) list.push({ checked, expr, span: expr.span, origin });
  };
  const seen = new Set<Rel>();
  const walk = (r: Rel): void => {
    if (seen.has(r)) return;
    seen.add(r);
    switch (r.kind) {
      case 'scan': return;
      case 'filter': add(r.input, r.predicate, originOf(r)); walk(r.input); return;
      case 'derive': {
        // Judged where the derived columns exist (a later column may read an earlier one).
        r.columns.forEach((c, i) => add(r, c.expr, originOf(r, i)));
        walk(r.input);
        return;
      }
      case 'exists': case 'tag': case 'member': case 'face': case 'aggregate': walk(r.input); return;
      case 'join': walk(r.left); return;
      case 'union': for (const i of r.inputs) walk(i); return;
    }
  };
  walk(aggregate.input);

  const out: ConditionAuditQuery[] = [];
  for (const [population, probes] of byPopulation) {
    if (probes.length === 0) continue;
    const inner = compileRel(population, asOf, options);
    const params = new SqlParams();
    params.values.push(...inner.parameters);
    const ctx = { params, column: (c: string) => `q.${ident(c)}`, asOf };
    const cols = probes.flatMap((p, k) => {
      const cond = compileExpression({ ...p.checked, expr: p.expr }, ctx);
      return [`${countUnits} FILTER (WHERE (${cond})) AS ${ident(`i${k}`)}`, `${countUnits} FILTER (WHERE (${cond}) IS NOT TRUE) AS ${ident(`o${k}`)}`];
    });
    out.push({
      // A WITH query like the stage's own (operators and tests recognise a stage's queries by it).
      query: { sql: `WITH q AS (${inner.sql}) SELECT ${cols.join(', ')} FROM q`, parameters: params.values },
      probes: probes.map(({ origin, span }) => ({ origin, span })),
    });
  }
  return out;
}

/**
 * Judges an audit query's answer: throws LAB-E125 naming the first condition that holds, or
 * fails, for at most `threshold` persons (never the counts).
 */
export function judgeConditionAudit(audit: ConditionAuditQuery, row: Readonly<Record<string, unknown>>, threshold: number): void {
  audit.probes.forEach((p, k) => {
    const holds = Number(row[`i${k}`]);
    const fails = Number(row[`o${k}`]);
    if (holds > threshold && fails > threshold) return;
    throw new LabError('LAB-E125', {
      detail: t(
        `条件（第 ${p.span.start + 1}–${p.span.end} 个字符）在筛选前的人群中只对极少数人成立或不成立，可能用于识别个人`,
        `the condition at characters ${p.span.start + 1}–${p.span.end} holds, or fails, for only a few persons of the population before filters, which could single out a person`,
      ),
      hint: t('请放宽或删除该条件；条件须对足够多的人成立且对足够多的人不成立', 'Widen or remove this condition: it must hold for enough persons and fail for enough persons'),
      ...(p.origin ? { nodeId: p.origin.nodeId, field: p.origin.field } : {}),
      span: p.span,
    });
  });
}
