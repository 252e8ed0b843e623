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
  /** The grouping sets of the table (bitmasks, as `Cell.grouping`). */
  readonly groupingSets: readonly number[];
  /** The cell of grouping set `grouping` that holds `cell` (undefined when the table has none). */
  containing(cell: number, grouping: number): number | undefined;
  /** Additivity lines: parent = sum of children along one key. */
  readonly groups: readonly { readonly parent: number; readonly children: readonly number[] }[];
  /** Lines each cell belongs to (as parent or child). */
  readonly groupsOf: readonly (readonly number[])[];
}

const bitOf = (i: number, k: number) => 1 << (k - 1 - i);

export function buildCellStructure(cells: readonly Cell[], keyCount: number): CellStructure {
  // Key values interned per key (0 = null), so a cell's identity is a number: its grouping and its
  // codes in mixed radix. A parent's identity is then arithmetic on its child's. (A table too wide
  // for 2^53 falls back to text identities.)
  const intern = Array.from({ length: keyCount }, () => new Map<string, number>());
  const codes = cells.map((c) => c.keys.map((v, i) => {
    if (v === null) return 0;
    const m = intern[i] as Map<string, number>;
    let code = m.get(v);
    if (code === undefined) { code = m.size + 1; m.set(v, code); }
    return code;
  }));
  const weight: number[] = new Array<number>(keyCount).fill(1);
  let span = 1;
  for (let i = keyCount - 1; i >= 0; i--) { weight[i] = span; span *= (intern[i]?.size ?? 0) + 1; }
  const numeric = span * 2 ** keyCount < Number.MAX_SAFE_INTEGER;
  const idOfCodes = (grouping: number, cs: readonly number[]): number | string => {
    if (!numeric) return `${grouping}:${cs.join(',')}`;
    let id = grouping * span;
    for (let i = 0; i < keyCount; i++) id += (cs[i] ?? 0) * (weight[i] ?? 0);
    return id;
  };
  const byId = new Map<number | string, number>();
  const sets = new Set<number>();
  cells.forEach((c, i) => {
    byId.set(idOfCodes(c.grouping, codes[i] ?? []), c.index);
    sets.add(c.grouping);
  });
  const finest = cells.filter((c) => c.grouping === 0).map((c) => c.index);
  if (finest.length === 0 && cells.length > 0) throw new Error('the full grouping set is missing from the table');
  const groups: { parent: number; children: number[] }[] = [];
  const groupIndex = new Map<number, number>();
  const groupsOf: number[][] = cells.map(() => []);
  cells.forEach((c, ci) => {
    const cs = codes[ci] ?? [];
    for (let i = 0; i < keyCount; i++) {
      const bit = bitOf(i, keyCount);
      if (c.grouping & bit) continue; // key i is not grouped in c
      const parentGrouping = c.grouping | bit;
      if (!sets.has(parentGrouping)) continue;
      const parentCodes = cs.map((v, j) => ((parentGrouping & bitOf(j, keyCount)) ? 0 : v));
      const parent = byId.get(idOfCodes(parentGrouping, parentCodes));
      if (parent === undefined) continue;
      const gid = parent * keyCount + i;
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
  });
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
        for (const f of finest) if (byId.get(idOfCodes(c.grouping, (codes[f] ?? []).map((v, j) => ((c.grouping & bitOf(j, keyCount)) ? 0 : v)))) === cell) out.push(f);
      }
    }
    descendantCache.set(cell, out);
    return out;
  };
  const ancestorsOf = (cell: number): readonly number[] => {
    const c = cells[cell];
    if (!c || c.grouping !== 0) return [];
    const out: number[] = [];
    const cs = codes[cell] ?? [];
    for (const g of sets) { const a = byId.get(idOfCodes(g, cs.map((v, j) => ((g & bitOf(j, keyCount)) ? 0 : v)))); if (a !== undefined) out.push(a); }
    return out;
  };
  const containing = (cell: number, grouping: number): number | undefined => {
    const cs = codes[cell] ?? [];
    if (!numeric) return byId.get(idOfCodes(grouping, cs.map((v, j) => ((grouping & bitOf(j, keyCount)) ? 0 : v))));
    let id = grouping * span;
    for (let j = 0; j < keyCount; j++) if (!(grouping & bitOf(j, keyCount))) id += (cs[j] ?? 0) * (weight[j] ?? 0);
    return byId.get(id);
  };
  return { cells, finest, groups, groupsOf, descendantsOf, ancestorsOf, groupingSets: [...sets], containing };
}
