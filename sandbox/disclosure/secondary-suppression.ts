import { canRise } from './floor-lp.ts';
import type { CellStructure } from './cell-structure.ts';

/**
 * Secondary suppression: adds suppressed cells until no suppressed cell can be computed exactly
 * from the released ones through any subtotal or margin.
 *
 * 1. A line pass over the additivity lines: a line with exactly one suppressed member gets a second
 *    one. The partner is chosen by cost: first the fewest lines it would leave with a single
 *    suppressed member (lines it closes count against that), then the fewest persons. Choosing
 *    partners that close lines keeps the pattern from cascading through the table.
 * 2. An exact audit: the unknowns are the suppressed finest cells; each released cell is a known
 *    sum of them, each suppressed cell a target sum. A target is recoverable iff its row lies in
 *    the span of the known rows — tested by sparse Gaussian elimination per connected component.
 *    Pinned cells are repaired, finest first, one per neighbourhood per round (a repair often frees
 *    its neighbours too, so they wait for the next audit), and both passes repeat.
 * Released values are treated as exact (rounding is not counted on as protection).
 */
export function secondarySuppression(s: CellStructure, suppressed: boolean[], locked?: readonly boolean[]): { rounds: number } | undefined {
  const lines = new LineState(s, suppressed, locked ?? []);
  lines.closeAll();
  let rounds = 0;
  for (;;) {
    rounds++;
    const recoverable = audit(s, suppressed);
    if (recoverable.length === 0) return { rounds };
    const byFineness = [...recoverable].sort((a, b) => rolledUp(s, a) - rolledUp(s, b) || units(s, a) - units(s, b));
    const touched = new Set<number>();
    let added = 0;
    for (const c of byFineness) {
      const mine = s.groupsOf[c] ?? [];
      if (added > 0 && mine.some((g) => touched.has(g))) continue;
      const x = lines.partnerFor(c) ?? fallbackPartner(s, suppressed, locked ?? [], c);
      if (x === undefined) continue;
      lines.suppress(x);
      added++;
      for (const g of mine) touched.add(g);
      for (const g of s.groupsOf[x] ?? []) touched.add(g);
    }
    // Nothing left to add while cells are still pinned: only cells locked by earlier releases can
    // stand in the way (without locks every finest cell can be suppressed in the end).
    if (added === 0) {
      if (locked?.some(Boolean)) return undefined;
      throw new Error('secondary suppression cannot protect a cell');
    }
    lines.closeAll();
  }
}

const units = (s: CellStructure, i: number) => s.cells[i]?.units ?? 0;
/** How many keys a cell rolls up (0 = finest). */
const rolledUp = (s: CellStructure, i: number) => { let g = s.cells[i]?.grouping ?? 0; let n = 0; while (g) { n += g & 1; g >>>= 1; } return n; };

/** Suppressed members per additivity line, kept up to date as cells are suppressed. */
class LineState {
  private readonly count: Int32Array;
  private readonly open: number[] = [];

  constructor(private readonly s: CellStructure, private readonly suppressed: boolean[], private readonly locked: readonly boolean[]) {
    this.count = new Int32Array(s.groups.length);
    s.groups.forEach((line, g) => {
      let n = suppressed[line.parent] ? 1 : 0;
      for (const c of line.children) if (suppressed[c]) n++;
      this.count[g] = n;
      if (n === 1) this.open.push(g);
    });
  }

  suppress(x: number): void {
    if (this.suppressed[x]) return;
    this.suppressed[x] = true;
    for (const g of this.s.groupsOf[x] ?? []) {
      const n = (this.count[g] ?? 0) + 1;
      this.count[g] = n;
      if (n === 1) this.open.push(g);
    }
  }

  /** Until no line has exactly one suppressed member. */
  closeAll(): void {
    for (let g = this.open.pop(); g !== undefined; g = this.open.pop()) {
      if (this.count[g] !== 1) continue;
      const line = this.s.groups[g];
      if (!line) continue;
      const x = this.cheapest(line.children, g) ?? this.cheapest([line.parent], g);
      if (x !== undefined) this.suppress(x);
    }
  }

  /** The cheapest released cell on one of `c`'s lines (siblings and children, then parents). */
  partnerFor(c: number): number | undefined {
    const mine = this.s.groupsOf[c] ?? [];
    const near: number[] = [];
    const parents: number[] = [];
    for (const g of mine) {
      const line = this.s.groups[g];
      if (!line) continue;
      for (const x of line.children) if (x !== c) near.push(x);
      if (line.parent !== c) parents.push(line.parent);
    }
    return this.cheapest(near, -1) ?? this.cheapest(parents, -1);
  }

  /** Cost of suppressing x: lines left with one suppressed member minus lines it closes, then persons. */
  private cheapest(candidates: readonly number[], except: number): number | undefined {
    let best: number | undefined;
    let bestOpen = Infinity;
    let bestUnits = Infinity;
    for (const x of candidates) {
      if (this.suppressed[x] || this.locked[x]) continue;
      let opens = 0;
      for (const h of this.s.groupsOf[x] ?? []) {
        if (h === except) continue;
        const n = this.count[h];
        if (n === 0) opens++; else if (n === 1) opens--;
      }
      const u = units(this.s, x);
      if (opens < bestOpen || (opens === bestOpen && u < bestUnits)) { best = x; bestOpen = opens; bestUnits = u; }
    }
    return best;
  }
}

/** For tests and tools: the line pass alone. */
export function linePass(s: CellStructure, suppressed: boolean[]): void {
  new LineState(s, suppressed, []).closeAll();
}

/**
 * When every neighbour of a pinned cell is already suppressed and it is still pinned from further
 * away: a released cell that shares unknown finest cells with `c` — one of the known sums the
 * recovery can use — else a released finest cell under `c`. Smallest first.
 */
function fallbackPartner(s: CellStructure, suppressed: readonly boolean[], locked: readonly boolean[], c: number): number | undefined {
  let best: number | undefined;
  const consider = (x: number) => {
    if (x === c || suppressed[x] || locked[x]) return;
    if (best === undefined || units(s, x) < units(s, best)) best = x;
  };
  const hidden = new Set((s.descendantsOf(c)).filter((f) => suppressed[f]));
  if (hidden.size > 0) {
    // The finest released cells that share unknowns with c; a coarse total only if nothing finer.
    let finestLevel = Infinity;
    for (const f of hidden) for (const a of s.ancestorsOf(f)) if (a !== c && !suppressed[a] && !locked[a]) finestLevel = Math.min(finestLevel, rolledUp(s, a));
    for (const f of hidden) for (const a of s.ancestorsOf(f)) if (rolledUp(s, a) === finestLevel) consider(a);
  } else {
    for (const f of s.descendantsOf(c)) consider(f);
  }
  return best;
}

type Row = Map<number, number>;
const EPS = 1e-9;

/**
 * Suppressed cells an attacker can pin to one value, knowing every released value exactly and that
 * every listed cell holds at least 1 person.
 *
 * Unknowns are the suppressed cells; the equations are the table's additivity lines (parent = sum
 * of its children along one key, released members as constants) — equivalent to "every cell is the
 * sum of its finest cells" because every coarser cell is the parent of some line (a cell that is
 * not gets that equation itself), and far sparser. Suppressed finest cells holding 1 person are
 * "floor" cells: they can only move up. A suppressed cell is pinned iff no direction d that keeps
 * every equation, with d ≥ 0 on floor cells that cannot rise, changes it. Two echelon forms
 * (sparse Gaussian elimination per connected component, pivot = lowest unknown):
 *  1. other unknowns before floor cells: the basis rows without other unknowns span every
 *     combination of the equations over floor cells only; a floor cell they name is fixed unless a
 *     non-negative move along them raises it (a small linear programme, floor-lp.ts);
 *  2. the fixed floor cells join the equations as known values (their unit rows): a cell is pinned
 *     iff its unit row lies in the span of the equations and those rows. Otherwise some direction
 *     that keeps them changes it, and a small step along it (plus a positive move of every movable
 *     floor cell, which exists by construction) keeps every released value and every bound.
 */
export function audit(s: CellStructure, suppressed: readonly boolean[]): number[] {
  const isFloor = (i: number) => (s.cells[i]?.grouping ?? 0) === 0 && units(s, i) < 2;
  const free: number[] = [];
  const floor: number[] = [];
  s.cells.forEach((_, i) => { if (suppressed[i]) (isFloor(i) ? floor : free).push(i); });
  // Elimination order: coarse cells and last keys first (the reverse of the table's order) keeps the
  // fill-in small — 2.5× faster on S1 at 10 M persons, community level; the answer is the same.
  free.reverse();
  const equations = additivityEquations(s, suppressed);

  const echelon = new Echelon([...free, ...floor], equations);
  // Floor cells that cannot rise are known (at 1): their unit rows join the basis.
  echelon.addUnitRows(echelon.floorCellsThatCannotRise(free.length));
  return [...free, ...floor].filter((c) => echelon.pinned(c)).sort((x, y) => x - y);
}

/** The equations over suppressed cells: one per additivity line, and one per cell no line explains. */
function additivityEquations(s: CellStructure, suppressed: readonly boolean[]): Map<number, number>[] {
  const out: Map<number, number>[] = [];
  const explained = new Set<number>();
  for (const line of s.groups) {
    explained.add(line.parent);
    const row = new Map<number, number>();
    if (suppressed[line.parent]) row.set(line.parent, -1);
    for (const c of line.children) if (suppressed[c]) row.set(c, 1);
    if (row.size > 0) out.push(row);
  }
  s.cells.forEach((cell, i) => {
    if (cell.grouping === 0 || explained.has(i)) return;
    const row = new Map<number, number>();
    if (suppressed[i]) row.set(i, -1);
    for (const f of s.descendantsOf(i)) if (suppressed[f]) row.set(f, 1);
    if (row.size > 0) out.push(row);
  });
  return out;
}

/** Row echelon form of equations over the unknowns (cells, in `order`), one basis per component. */
class Echelon {
  private readonly varOf = new Map<number, number>();
  private readonly parent: number[];
  private readonly basisByComp = new Map<number, Map<number, Row>>();

  constructor(private readonly order: readonly number[], equations: readonly ReadonlyMap<number, number>[]) {
    for (const c of order) this.varOf.set(c, this.varOf.size);
    this.parent = Array.from({ length: this.varOf.size }, (_, i) => i);
    const rows: Row[] = equations.map((e) => {
      const row: Row = new Map();
      for (const [cell, coef] of e) { const v = this.varOf.get(cell); if (v !== undefined) row.set(v, coef); }
      return row;
    });
    for (const row of rows) {
      let first: number | undefined;
      for (const v of row.keys()) {
        if (first === undefined) { first = v; continue; }
        const a = this.find(first); const b = this.find(v);
        if (a !== b) this.parent[a] = b;
      }
    }
    for (const row of rows) this.insert(row);
  }

  /** Adds a row to the basis (reduced first; nothing if it is already in the span). */
  private insert(row: Row): void {
    const lead0 = leadOf(row);
    if (lead0 === Infinity) return;
    const basis = this.basisOf(lead0);
    const reduced = reduce(basis, row, Infinity);
    if (reduced.size === 0) return;
    const lead = leadOf(reduced);
    const f = reduced.get(lead) as number;
    for (const [key, v] of reduced) reduced.set(key, v / f);
    basis.set(lead, reduced);
  }

  /** Makes these cells known: their unit rows join the basis. */
  addUnitRows(cells: Iterable<number>): void {
    for (const c of cells) { const v = this.varOf.get(c); if (v !== undefined) this.insert(new Map([[v, 1]])); }
  }

  /**
   * With the other unknowns ordered first: the basis rows from `firstFloor` on are every combination
   * of the equations over floor cells only. A floor cell they name is fixed unless some
   * non-negative move along all of them raises it (a linear programme over those rows alone).
   */
  floorCellsThatCannotRise(firstFloor: number): Set<number> {
    const rows: Row[] = [];
    for (const basis of this.basisByComp.values()) for (const [lead, row] of basis) if (lead >= firstFloor) rows.push(row);
    const rise = canRise(rows);
    const out = new Set<number>();
    for (const r of rows) for (const k of r.keys()) if (!rise.has(k)) out.add(this.order[k] as number);
    return out;
  }

  /** Whether the cell is determined: its unit row lies in the span of the basis. */
  pinned(cell: number): boolean {
    const v = this.varOf.get(cell);
    if (v === undefined) return true;
    return reduce(this.basisOf(v), new Map([[v, 1]]), Infinity).size === 0;
  }

  private find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) { const up = p[x] as number; p[x] = p[up] as number; x = up; }
    return x;
  }

  private basisOf(v: number): Map<number, Row> {
    const r = this.find(v);
    let b = this.basisByComp.get(r);
    if (!b) { b = new Map(); this.basisByComp.set(r, b); }
    return b;
  }
}

const leadOf = (row: Row) => { let lead = Infinity; for (const k of row.keys()) if (k < lead) lead = k; return lead; };

/** Reduces by basis rows while the lead is a pivot below `limit`. */
function reduce(basis: Map<number, Row>, row: Row, limit: number): Row {
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
}
