import type { Expr } from '../../sandbox/expr/ast.ts';
import type { Checked } from '../../sandbox/expr/index.ts';

/**
 * Bugs the fuzz suites found and that are still open. Each has an `it.fails` test reproducing it;
 * the properties leave out the inputs that trigger a known bug (and count them), so that they keep
 * looking for new ones. When a bug is fixed, its `it.fails` test starts passing and so fails:
 * delete the entry here and the test there.
 */
export type KnownBug =
  /** A NULL-typed expression where a typed value is needed compiles to SQL Postgres refuses. */
  | 'null-typed-argument';

const children = (e: Expr): Expr[] => {
  switch (e.kind) {
    case 'column': case 'literal': return [];
    case 'unary': case 'isNull': return [e.operand];
    case 'binary': return [e.left, e.right];
    case 'between': return [e.operand, e.low, e.high];
    case 'in': return [e.operand, ...e.items];
    case 'case': return [...e.whens.flatMap((w) => [w.when, w.then]), ...(e.otherwise ? [e.otherwise] : [])];
    case 'call': return [...e.args];
  }
};

const DATE_PART_FUNCTIONS = new Set(['year', 'month', 'quarter', 'month_start']);

/** The known bug a checked expression runs into, if any (`idColumns`: columns holding valid ID numbers). */
export function knownBugOf(checked: Checked, _idColumns: ReadonlySet<string>): KnownBug | undefined {
  const typeOf = (e: Expr) => checked.types.get(e);
  const isNull = (e: Expr) => e.kind === 'literal' && e.value === null;
  let found: KnownBug | undefined;
  const visit = (e: Expr, root: boolean) => {
    if (found) return;
    // NULL-typed compound values (coalesce/nullif/greatest/least of NULLs) are text in Postgres.
    if (!root && e.kind !== 'literal' && typeOf(e) === 'null') { found = 'null-typed-argument'; return; }
    if (e.kind === 'call' && DATE_PART_FUNCTIONS.has(e.name) && e.args[0] && isNull(e.args[0])) { found = 'null-typed-argument'; return; }
    if (e.kind === 'call' && e.name === 'days_between' && e.args.every(isNull)) { found = 'null-typed-argument'; return; }
    for (const c of children(e)) visit(c, false);
  };
  visit(checked.expr, true);
  return found;
}
