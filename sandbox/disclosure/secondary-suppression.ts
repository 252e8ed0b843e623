import type { CellStructure } from './cell-structure.ts';

/**
 * Secondary suppression: adds suppressed cells until no suppressed cell can be computed exactly
 * from the released ones through any subtotal or margin.
 *
 * 1. A fast pass over the additivity lines: a line with exactly one suppressed member gets a
 *    second one (its smallest released child, else its parent).
 * 2. An exact audit: the unknowns are the suppressed finest cells; each released cell is a known
 *    sum of them, each suppressed cell a target sum. A target is recoverable iff its row lies in
 *    the span of the known rows — tested by sparse Gaussian elimination per connected component.
 *    Every recoverable cell gets one more suppression on one of its lines, and both passes repeat.
 * Released values are treated as exact (rounding is not counted on as protection).
 */
export function secondarySuppression(s: CellStructure, suppressed: boolean[]): { rounds: number } {
  let rounds = 0;
  for (;;) {
    rounds++;
    linePass(s, suppressed);
    const recoverable = audit(s, suppressed);
    if (recoverable.length === 0) return { rounds };
    // A repair made for one cell may already protect the next; a round that can add nothing
    // while cells are still pinned would be a bug.
    let added = 0;
    const byFineness = [...recoverable].sort((a, b) => rolledUp(s, a) - rolledUp(s, b) || units(s, a) - units(s, b));
    for (const c of byFineness) if (protectOnce(s, suppressed, c)) added++;
    if (added === 0) throw new Error('secondary suppression cannot protect a cell');
  }
}

const units = (s: CellStructure, i: number) => s.cells[i]?.units ?? 0;
/** How many keys a cell rolls up (0 = finest). */
const rolledUp = (s: CellStructure, i: number) => { let g = s.cells[i]?.grouping ?? 0; let n = 0; while (g) { n += g & 1; g >>>= 1; } return n; };

export function linePass(s: CellStructure, suppressed: boolean[]): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const g of s.groups) {
      let count = suppressed[g.parent] ? 1 : 0;
      for (const c of g.children) if (suppressed[c]) count++;
      if (count !== 1) continue;
      const pick = smallestReleased(s, suppressed, g.children) ?? (suppressed[g.parent] ? undefined : g.parent);
      if (pick !== undefined) { suppressed[pick] = true; changed = true; }
    }
  }
}

function smallestReleased(s: CellStructure, suppressed: boolean[], candidates: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const c of candidates) {
    if (suppressed[c]) continue;
    if (best === undefined || units(s, c) < units(s, best)) best = c;
  }
  return best;
}

/**
 * Suppresses one more cell to break the recovery of `c`: a released sibling or child on one of its
 * lines first, then a parent; failing those (every neighbour is already suppressed and `c` is still
 * pinned down from further away), a released cell that shares unknown finest cells with `c` — one
 * of the known sums the recovery can use — else a released finest cell under `c`. Smallest first.
 */
function protectOnce(s: CellStructure, suppressed: boolean[], c: number): boolean {
  let best: number | undefined;
  const consider = (x: number) => {
    if (x === c || suppressed[x]) return;
    if (best === undefined || units(s, x) < units(s, best)) best = x;
  };
  for (const gi of s.groupsOf[c] ?? []) for (const x of s.groups[gi]?.children ?? []) consider(x);
  if (best === undefined) for (const gi of s.groupsOf[c] ?? []) { const p = s.groups[gi]?.parent; if (p !== undefined) consider(p); }
  if (best === undefined) {
    const hidden = new Set((s.descendants[c] ?? []).filter((f) => suppressed[f]));
    if (hidden.size > 0) {
      // The finest released cells that share unknowns with c; a coarse total only if nothing finer.
      let finestLevel = Infinity;
      for (const f of hidden) for (const a of s.ancestors[f] ?? []) if (a !== c && !suppressed[a]) finestLevel = Math.min(finestLevel, rolledUp(s, a));
      for (const f of hidden) for (const a of s.ancestors[f] ?? []) if (rolledUp(s, a) === finestLevel) consider(a);
    } else {
      for (const f of s.descendants[c] ?? []) consider(f);
    }
  }
  if (best === undefined) return false;
  suppressed[best] = true;
  return true;
}

type Row = Map<number, number>;
const EPS = 1e-9;

/**
 * Suppressed cells an attacker can pin to one value, knowing every released value exactly and that
 * every listed cell holds at least 1 person.
 *
 * Unknowns are the suppressed finest cells: "free" ones (true value ≥ 2, they can move both ways)
 * ordered before "floor" ones (true value 1: they can only move up). One echelon form of the
 * released cells' rows (pivot = lowest unknown) then answers both questions:
 *  - a floor cell is pinned iff it appears in a basis row without free unknowns (a combination of
 *    released sums that names it and no free cell);
 *  - any other suppressed cell is pinned iff its row over the free unknowns lies in the span of the
 *    released rows over the free unknowns (then no direction moving only free cells changes it).
 * Otherwise a small move of free cells (plus, for a floor cell, itself upwards) keeps every released
 * value and every bound, and changes the cell: it is not pinned.
 */
export function audit(s: CellStructure, suppressed: readonly boolean[]): number[] {
  const free = s.finest.filter((f) => suppressed[f] && units(s, f) >= 2);
  const floor = s.finest.filter((f) => suppressed[f] && units(s, f) < 2);
  const varOf = new Map<number, number>();
  for (const f of free) varOf.set(f, varOf.size);
  const firstFloor = varOf.size;
  for (const f of floor) varOf.set(f, varOf.size);
  const rowOf = (cell: number): number[] => {
    const out: number[] = [];
    for (const f of s.descendants[cell] ?? []) { const v = varOf.get(f); if (v !== undefined) out.push(v); }
    return out.sort((a, b) => a - b);
  };
  // Components over the unknowns, joined by every row that mentions them.
  const parent = Array.from({ length: varOf.size }, (_, i) => i);
  const find = (x: number): number => { while (parent[x] !== x) { const p = parent[x] as number; parent[x] = parent[p] as number; x = p; } return x; };
  const known: number[][] = [];
  const targets: { cell: number; row: number[] }[] = [];
  s.cells.forEach((cell, i) => {
    const row = rowOf(i);
    if (suppressed[i]) targets.push({ cell: cell.index, row });
    else if (row.length > 0) known.push(row);
    for (let j = 1; j < row.length; j++) { const a = find(row[0] as number); const b = find(row[j] as number); if (a !== b) parent[a] = b; }
  });
  const basisByComp = new Map<number, Map<number, Row>>();
  const basisOf = (v: number) => {
    const r = find(v);
    let b = basisByComp.get(r);
    if (!b) { b = new Map(); basisByComp.set(r, b); }
    return b;
  };
  const leadOf = (row: Row) => { let lead = Infinity; for (const k of row.keys()) if (k < lead) lead = k; return lead; };
  /** Reduces by basis rows while the lead is a pivot below `limit`. */
  const reduce = (basis: Map<number, Row>, row: Row, limit: number): Row => {
    for (;;) {
      const lead = leadOf(row);
      if (lead >= limit) return row;
      const b = basis.get(lead);
      if (!b) return row;
      const f = row.get(lead) as number;
      for (const [k, v] of b) {
        const nv = (row.get(k) ?? 0) - f * v;
        if (Math.abs(nv) < EPS) row.delete(k); else row.set(k, nv);
      }
    }
  };
  for (const r of known) {
    const basis = basisOf(r[0] as number);
    const reduced = reduce(basis, new Map(r.map((v) => [v, 1])), Infinity);
    if (reduced.size === 0) continue;
    const lead = leadOf(reduced);
    const f = reduced.get(lead) as number;
    for (const [k, v] of reduced) reduced.set(k, v / f);
    basis.set(lead, reduced);
  }
  // Floor cells named by a basis row that holds no free unknown.
  const pinnedFloor = new Set<number>();
  for (const basis of basisByComp.values()) {
    for (const [lead, row] of basis) if (lead >= firstFloor) for (const k of row.keys()) pinnedFloor.add(k);
  }
  const out: number[] = [];
  for (const t of targets) {
    const v = varOf.get(t.cell);
    if (v !== undefined && v >= firstFloor) { if (pinnedFloor.has(v)) out.push(t.cell); continue; }
    const freeRow = t.row.filter((x) => x < firstFloor);
    if (freeRow.length === 0) {
      // Only floor cells below: raising any unpinned one (compensated by free cells elsewhere)
      // raises this cell by the same amount.
      if (!t.row.some((x) => !pinnedFloor.has(x))) out.push(t.cell);
      continue;
    }
    const reduced = reduce(basisOf(freeRow[0] as number), new Map(freeRow.map((x) => [x, 1])), firstFloor);
    if (leadOf(reduced) >= firstFloor) out.push(t.cell);
  }
  return out;
}
