/**
 * The linear structure of a table with grouping sets. Every cell is the sum of the finest cells
 * (the full grouping set) below it, so everything an attacker can solve for is a question about
 * sums of finest cells. `groups` are the table's additivity lines: a parent cell and its children
 * along one key.
 */
export interface Cell {
  readonly index: number;
  /** Bitmask of rolled-up keys (bit for key i is 1 << (K-1-i), as Postgres GROUPING() gives it). */
  readonly grouping: number;
  readonly keys: readonly (string | null)[];
  readonly units: number;
}

export interface CellStructure {
  readonly cells: readonly Cell[];
  /** Indices of the finest cells (grouping 0). */
  readonly finest: readonly number[];
  /** The finest cells a cell sums (indices into `cells`); computed on demand. */
  descendantsOf(cell: number): readonly number[];
  /** The cells that contain a finest cell (empty for the others); computed on demand. */
  ancestorsOf(cell: number): readonly number[];
  /** Additivity lines: parent = sum of children along one key. */
  readonly groups: readonly { readonly parent: number; readonly children: readonly number[] }[];
  /** Lines each cell belongs to (as parent or child). */
  readonly groupsOf: readonly (readonly number[])[];
}

const bitOf = (i: number, k: number) => 1 << (k - 1 - i);
const idOf = (grouping: number, keys: readonly (string | null)[]) => `${grouping}\u0002${keys.map((v) => v ?? '\u0000').join('\u0001')}`;
const project = (keys: readonly (string | null)[], grouping: number, k: number) => keys.map((v, i) => ((grouping & bitOf(i, k)) ? null : v));

export function buildCellStructure(cells: readonly Cell[], keyCount: number): CellStructure {
  const byId = new Map<string, number>();
  const sets = new Set<number>();
  for (const c of cells) {
    byId.set(idOf(c.grouping, c.keys), c.index);
    sets.add(c.grouping);
  }
  const finest = cells.filter((c) => c.grouping === 0).map((c) => c.index);
  if (finest.length === 0 && cells.length > 0) throw new Error('the full grouping set is missing from the table');
  const groups: { parent: number; children: number[] }[] = [];
  const groupIndex = new Map<string, number>();
  const groupsOf: number[][] = cells.map(() => []);
  for (const c of cells) {
    for (let i = 0; i < keyCount; i++) {
      const bit = bitOf(i, keyCount);
      if (c.grouping & bit) continue; // key i is not grouped in c
      const parentGrouping = c.grouping | bit;
      if (!sets.has(parentGrouping)) continue;
      const parent = byId.get(idOf(parentGrouping, project(c.keys, parentGrouping, keyCount)));
      if (parent === undefined) continue;
      const gid = `${parent}:${i}`;
      let gi = groupIndex.get(gid);
      if (gi === undefined) {
        gi = groups.length;
        groups.push({ parent, children: [] });
        groupIndex.set(gid, gi);
        groupsOf[parent]?.push(gi);
      }
      groups[gi]?.children.push(c.index);
      groupsOf[c.index]?.push(gi);
    }
  }
  // Descendants and ancestors serve rare repairs and tests: per cell, on demand. A cell that is
  // the parent of a line is the sum of that line's children, down to the finest cells.
  const descendantCache = new Map<number, readonly number[]>();
  const descendantsOf = (cell: number): readonly number[] => {
    const known = descendantCache.get(cell);
    if (known) return known;
    let out: number[];
    const c = cells[cell];
    if (!c) out = [];
    else if (c.grouping === 0) out = [cell];
    else {
      const line = (groupsOf[cell] ?? []).map((g) => groups[g]).find((g) => g?.parent === cell);
      if (line) out = line.children.flatMap((x) => [...descendantsOf(x)]);
      else {
        out = [];
        for (const f of finest) if (byId.get(idOf(c.grouping, project((cells[f] as Cell).keys, c.grouping, keyCount))) === cell) out.push(f);
      }
    }
    descendantCache.set(cell, out);
    return out;
  };
  const ancestorsOf = (cell: number): readonly number[] => {
    const c = cells[cell];
    if (!c || c.grouping !== 0) return [];
    const out: number[] = [];
    for (const g of sets) { const a = byId.get(idOf(g, project(c.keys, g, keyCount))); if (a !== undefined) out.push(a); }
    return out;
  };
  return { cells, finest, groups, groupsOf, descendantsOf, ancestorsOf };
}
