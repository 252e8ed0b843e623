import type { CellStructure } from './cell-structure.ts';
import { solveLp } from './floor-lp.ts';

/** A sum (or mean × persons) measure: every cell's exact value, and the cells the p% or dominance rule flagged, each with the protection it needs. */
export interface SumMeasure {
  readonly values: readonly number[];
  /** Cell index → how far above its value the attacker's upper bound must stay (p × top contribution). */
  readonly sensitive: ReadonlyMap<number, number>;
}

/**
 * Protection intervals for sums. Counts are protected when no suppressed cell is pinned
 * (secondary-suppression.ts); for a cell one or two persons dominate, the p% rule asks more of its
 * sum: the attacker's upper bound — from the released sums, taken as exact, with every suppressed
 * cell's sum ≥ 0 — must stay at least p % of the top contribution above the true sum. A partner that
 * holds next to nothing does not give that.
 *
 * For each flagged cell a linear programme (HiGHS) over the suppressed cells of its connected
 * component maximises its sum. Where the bound falls short, the released cell with the largest sum
 * on one of its additivity lines is suppressed too (it adds the most uncertainty). Returns the cells
 * to suppress (the caller re-runs secondary suppression for the counts, then calls again until
 * nothing is added). A cell whose lines hold nothing left to suppress is left as it is.
 */
export function protectSums(s: CellStructure, suppressed: readonly boolean[], locked: readonly boolean[], measures: readonly SumMeasure[]): number[] {
  const added = new Set<number>();
  for (const m of measures) {
    if (m.sensitive.size === 0) continue;
    const system = sumSystem(s, suppressed, m.values);
    for (const [c, margin] of m.sensitive) {
      if (!suppressed[c] || added.size > 0 && touches(s, c, added)) continue;
      const upper = system.maximise(c);
      const value = m.values[c] ?? 0;
      if (upper === undefined || upper >= value + margin - 1e-6 * Math.max(1, Math.abs(value))) continue;
      // Nothing left on its lines: left as it is (a refusal here would tell the attacker that the
      // cell is dominated; see docs/disclosure.md, limits).
      const partner = richestNeighbour(s, suppressed, locked, m.values, c, added);
      if (partner !== undefined) added.add(partner);
    }
  }
  return [...added];
}

function touches(s: CellStructure, c: number, cells: ReadonlySet<number>): boolean {
  for (const g of s.groupsOf[c] ?? []) {
    const line = s.groups[g];
    if (line && (cells.has(line.parent) || line.children.some((x) => cells.has(x)))) return true;
  }
  return false;
}

/** The released, unlocked cell with the largest |sum| on one of `c`'s lines. */
function richestNeighbour(s: CellStructure, suppressed: readonly boolean[], locked: readonly boolean[], values: readonly number[], c: number, taken: ReadonlySet<number>): number | undefined {
  let best: number | undefined;
  let bestValue = -Infinity;
  for (const g of s.groupsOf[c] ?? []) {
    const line = s.groups[g];
    if (!line) continue;
    for (const x of [...line.children, line.parent]) {
      if (x === c || suppressed[x] || locked[x] || taken.has(x)) continue;
      const v = Math.abs(values[x] ?? 0);
      // A sibling adds uncertainty to c's line; a parent only closes it from above, so siblings first.
      const score = x === line.parent ? v / 1e12 : v;
      if (score > bestValue) { best = x; bestValue = score; }
    }
  }
  return best;
}

/**
 * The attacker's equations over suppressed cells' sums: one per additivity line (parent = Σ
 * children, released members as constants), and one per cell no line explains (cell = Σ of its
 * finest cells). Components are kept apart so each programme stays small.
 */
function sumSystem(s: CellStructure, suppressed: readonly boolean[], values: readonly number[]) {
  const rows: { terms: Map<number, number>; rhs: number }[] = [];
  const add = (terms: Map<number, number>, rhs: number) => { if (terms.size > 0) rows.push({ terms, rhs }); };
  const explained = new Set<number>();
  for (const line of s.groups) {
    explained.add(line.parent);
    const terms = new Map<number, number>();
    let rhs = 0;
    // Σ children − parent = 0, released members moved to the right-hand side.
    if (suppressed[line.parent]) terms.set(line.parent, -1); else rhs += values[line.parent] ?? 0;
    for (const c of line.children) { if (suppressed[c]) terms.set(c, 1); else rhs -= values[c] ?? 0; }
    add(terms, rhs);
  }
  s.cells.forEach((cell, i) => {
    if (cell.grouping === 0 || explained.has(i)) return;
    const terms = new Map<number, number>();
    let rhs = 0;
    if (suppressed[i]) terms.set(i, -1); else rhs += values[i] ?? 0;
    for (const f of s.descendantsOf(i)) { if (suppressed[f]) terms.set(f, 1); else rhs -= values[f] ?? 0; }
    add(terms, rhs);
  });
  // Components of suppressed cells linked by equations.
  const parent = new Map<number, number>();
  const find = (x: number): number => { let r = x; while (parent.get(r) !== undefined && parent.get(r) !== r) r = parent.get(r) as number; parent.set(x, r); return r; };
  for (const r of rows) {
    let first: number | undefined;
    for (const k of r.terms.keys()) {
      if (!parent.has(k)) parent.set(k, k);
      if (first === undefined) { first = k; continue; }
      const a = find(first); const b = find(k);
      if (a !== b) parent.set(a, b);
    }
  }
  const byComponent = new Map<number, typeof rows>();
  for (const r of rows) {
    const k = r.terms.keys().next().value as number;
    const root = find(k);
    let list = byComponent.get(root);
    if (!list) { list = []; byComponent.set(root, list); }
    list.push(r);
  }
  return {
    /** The attacker's largest value for a suppressed cell's sum (Infinity if unbounded; undefined if the system has no solution with every sum ≥ 0). */
    maximise(cell: number): number | undefined {
      if (!parent.has(cell)) return Infinity;
      const comp = byComponent.get(find(cell)) ?? [];
      const vars = new Set<number>();
      for (const r of comp) for (const k of r.terms.keys()) vars.add(k);
      const lines = ['Maximize', ` obj: v${cell}`, 'Subject To'];
      comp.forEach((r, i) => {
        const text = [...r.terms].map(([k, c], j) => `${c < 0 ? ' - ' : j === 0 ? '' : ' + '}v${k}`).join('');
        lines.push(` r${i}: ${text} = ${r.rhs}`);
      });
      lines.push('Bounds');
      for (const v of vars) lines.push(` v${v} >= 0`);
      lines.push('End');
      const solution = solveLp(lines.join('\n'));
      if (solution.Status === 'Unbounded') return Infinity;
      if (solution.Status !== 'Optimal') return undefined;
      return solution.ObjectiveValue;
    },
  };
}
