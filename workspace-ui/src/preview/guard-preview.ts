/**
 * The staff guard's primary rules applied to a table of MOCK rows, for the editor's disclosure
 * preview (模拟数据): which cells of the mock table would be suppressed for having too few persons
 * (or too few persons contributing a non-zero amount to a sum or mean), and how the rest would be
 * rounded (docs/disclosure.md, *Precision of sums and means*; the steps come from the guard's own
 * `sandbox/disclosure/rounding.ts`). The parameters are the policy's, as
 * POST /api/pipelines/disclosure-preview states them.
 *
 * Not done here, by design: secondary suppression, the p % and dominance rules (their parameters
 * stay confidential), cell-key noise and the release ledger — they are decided inside the domain
 * on the real data, so the real table may suppress more. Each mock row counts as one person.
 */
import { contributionStep, meanStep } from '../../../sandbox/disclosure/rounding.ts';
import type { Row, Value } from './evaluate-expr.ts';
import { measureName, type MockAggregate } from './run-preview.ts';

export interface GuardPreviewParams {
  readonly threshold: number;
  readonly rounding: number;
}

/** Why a cell is suppressed: too few persons, or too few non-zero contributors to a sum or mean. */
export type PrimaryReason = 'persons' | 'contributors';

export interface GuardedCell {
  /** Key values; `null` where the cell is a total over that key. */
  readonly keys: readonly Value[];
  /** The keys this cell groups by (the others are totals). */
  readonly grouped: readonly string[];
  readonly persons: number;
  readonly suppressed: boolean;
  readonly reason: PrimaryReason | null;
  /** Released (rounded) values per measure; `null` for a suppressed cell or an empty mean. */
  readonly values: readonly (number | null)[];
  /** The rounding step of each value (for the note beside it). */
  readonly steps: readonly (number | null)[];
}

export interface GuardedTable {
  readonly keys: readonly string[];
  readonly measures: readonly { readonly name: string; readonly kind: string }[];
  readonly cells: readonly GuardedCell[];
  readonly suppressed: number;
}

const roundTo = (v: number, step: number) => Math.round(v / step) * step;
const numeric = (v: Value | undefined): number | null => (v === null || v === undefined || v === '' ? null : Number.isFinite(Number(v)) ? Number(v) : null);

/**
 * The mock table as the guard's primary rules would release it. `groupingSets` (from the disclosure
 * preview) adds the totals the real table will carry; sets naming a key the mock table lacks are
 * skipped, and without any the finest grouping alone is shown.
 */
export function guardMockTable(agg: MockAggregate, params: GuardPreviewParams, groupingSets: readonly (readonly string[])[] = []): GuardedTable {
  const keys = agg.keys;
  const sets = groupingSets.filter((s) => s.every((k) => keys.includes(k))).map((s) => keys.filter((k) => s.includes(k)));
  if (!sets.some((s) => s.length === keys.length)) sets.push([...keys]);
  // Roll-up order, as a released table is shown: the grand total first, then finer; each set once.
  const unique = [...new Map(sets.map((s) => [s.join('\u0000'), s])).values()].sort((a, b) => a.length - b.length);
  const cells: GuardedCell[] = [];
  for (const grouped of unique) {
    const groups = new Map<string, { keys: Value[]; rows: Row[] }>();
    for (const r of agg.rows) {
      const k = keys.map((c) => (grouped.includes(c) ? (r[c] ?? null) : null));
      const id = JSON.stringify(k);
      const g = groups.get(id) ?? { keys: k, rows: [] };
      g.rows.push(r);
      groups.set(id, g);
    }
    const ordered = [...groups.values()].sort((a, b) => (JSON.stringify(a.keys) < JSON.stringify(b.keys) ? -1 : 1));
    for (const g of ordered) cells.push(guardCell(agg, g.keys, grouped, g.rows, params));
  }
  return {
    keys,
    measures: agg.measures.map((m, i) => ({ name: agg.names[i] ?? measureName(m), kind: m.kind })),
    cells,
    suppressed: cells.filter((c) => c.suppressed).length,
  };
}

/** One cell: the primary rules, then the released values (docs/disclosure.md). */
export function guardCell(agg: Pick<MockAggregate, 'measures'>, keys: readonly Value[], grouped: readonly string[], rows: readonly Row[], params: GuardPreviewParams): GuardedCell {
  const persons = rows.length;
  let reason: PrimaryReason | null = persons > params.threshold ? null : 'persons';
  const contributions = agg.measures.map((m) => (m.column ? rows.map((r) => numeric(r[m.column as string])).filter((v): v is number => v !== null) : []));
  agg.measures.forEach((m, i) => {
    if (reason || (m.kind !== 'sum' && m.kind !== 'mean')) return;
    const nonzero = (contributions[i] ?? []).filter((v) => v !== 0).length;
    if (!(nonzero > params.threshold)) reason = 'contributors';
  });
  if (reason) return { keys, grouped, persons, suppressed: true, reason, values: agg.measures.map(() => null), steps: agg.measures.map(() => null) };
  const base = params.rounding;
  const count = roundTo(persons, base);
  const steps: (number | null)[] = [];
  const values = agg.measures.map((m, i) => {
    const vals = contributions[i] ?? [];
    const top1 = vals.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const sumStep = base * contributionStep(top1);
    const sum = vals.reduce((a, v) => a + v, 0);
    switch (m.kind) {
      case 'count_persons': steps.push(base); return count;
      case 'count_distinct': { steps.push(base); return roundTo(Math.max(params.threshold + 1, new Set(rows.map((r) => (m.column ? String(r[m.column] ?? '') : ''))).size), base); }
      case 'sum': steps.push(sumStep); return roundTo(sum, sumStep);
      case 'mean': {
        if (vals.length === 0) { steps.push(null); return null; }
        // The mean's step: no finer than the sum's step over any person count the released count allows.
        const fewest = Math.max(params.threshold + 1, Math.ceil(count - base / 2));
        const step = meanStep(sumStep / fewest);
        steps.push(step);
        return Number(roundTo(sum / vals.length, step).toFixed(step < 1 ? 1 : 0));
      }
      default: steps.push(null); return null;
    }
  });
  return { keys, grouped, persons, suppressed: false, reason: null, values, steps };
}
