import { CATALOG } from '../../sandbox/domains/catalog/index.ts';
import type { DatasetSpec } from '../../sandbox/domains/catalog/index.ts';
import { compileExpression } from '../../sandbox/compile/expr.compile.ts';
import { ident } from '../../sandbox/compile/identifiers.ts';
import { SqlParams } from '../../sandbox/compile/sql-params.ts';
import { isLabError, type LabError } from '../../sandbox/errors/index.ts';
import { checkExpression, parseExpression, type Checked, type ColumnInfo } from '../../sandbox/expr/index.ts';
import { columnsOfDataset } from '../../operators/operator-helpers.ts';

/**
 * Shared by the fuzz suites: one seed (FUZZ_SEED, printed by fast-check with any failure so a run
 * can be replayed), a scale for the number of runs (FUZZ_SCALE, 1 by default), and the counts each
 * suite reports when it ends.
 */
export const FUZZ_SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_701);
const SCALE = Number(process.env['FUZZ_SCALE'] ?? 1);

/** fast-check parameters for a property of `numRuns` cases (scaled). */
export const fuzzRuns = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) });

/** Counts of generated cases and how they ended, printed by each suite. */
export class Tally {
  private readonly counts = new Map<string, number>();
  private readonly started = Date.now();
  constructor(private readonly suite: string) {}
  add(what: string, n = 1): void { this.counts.set(what, (this.counts.get(what) ?? 0) + n); }
  get(what: string): number { return this.counts.get(what) ?? 0; }
  report(): string {
    const parts = [...this.counts].map(([k, v]) => `${k} ${v}`).join(', ');
    return `[fuzz] ${this.suite}: ${parts} (${((Date.now() - this.started) / 1000).toFixed(1)} s, seed ${FUZZ_SEED})`;
  }
}

/** Datasets whose columns expressions are generated over (every dataset of the catalog). */
export const DATASETS: readonly DatasetSpec[] = CATALOG;
export const columnsOf = (ds: DatasetSpec): ColumnInfo[] => columnsOfDataset(ds);

/** Error codes of the expression language. */
export const EXPRESSION_CODES: ReadonlySet<string> = new Set(['LAB-E050', 'LAB-E051', 'LAB-E052', 'LAB-E053', 'LAB-E054']);

export type ExprOutcome =
  | { readonly kind: 'refused'; readonly error: LabError }
  | { readonly kind: 'compiled'; readonly checked: Checked; readonly sql: string; readonly parameters: readonly (string | number | boolean)[] };

export const AS_OF = '2026-06-30';

/**
 * Parse, check and compile an expression as a filter or derive node would. Throws whatever the
 * code under test throws other than a LabError from parse/check (that is the finding).
 */
export function runExpression(src: string, columns: readonly ColumnInfo[]): ExprOutcome {
  let checked: Checked;
  try {
    checked = checkExpression(parseExpression(src), columns);
  } catch (e) {
    if (isLabError(e)) return { kind: 'refused', error: e };
    throw e;
  }
  const params = new SqlParams();
  const sql = compileExpression(checked, { params, column: ident, asOf: AS_OF });
  return { kind: 'compiled', checked, sql, parameters: params.values };
}

/** What is wrong with a refusal of expression text `src` (empty: nothing). A span may end one past the text ("expected … at the end"). */
export function refusalProblems(e: LabError, src: string): string[] {
  const problems: string[] = [];
  if (!EXPRESSION_CODES.has(e.code)) problems.push(`code ${e.code} is not an expression code`);
  if (e.kind !== 'user') problems.push(`kind ${e.kind}`);
  if (!e.span) problems.push('no span');
  else if (!(e.span.start >= 0 && e.span.start <= e.span.end && e.span.end <= src.length + 1)) problems.push(`span ${JSON.stringify(e.span)} outside the text (length ${src.length})`);
  return problems;
}
