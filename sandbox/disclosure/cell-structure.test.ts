import { describe, expect, it } from 'vitest';
import { buildCellStructure, type Cell } from './cell-structure.ts';

/** A table with one key per column, `keys` columns, each with `levels` values, and its grand total. */
function wide(keys: number, levels: number): Cell[] {
  const finest: Cell[] = Array.from({ length: levels }, (_, v) => ({ index: v, grouping: 0, keys: Array.from({ length: keys }, (_, k) => `k${k}v${v}`), units: 10 }));
  return [...finest, { index: levels, grouping: 2 ** keys - 1, keys: Array.from({ length: keys }, () => null), units: 10 * levels }];
}

describe('cell structure', () => {
  it.each([[3, 5], [12, 41]])('finds every additivity line and every cell\'s finest cells (%i keys × %i values; the second too wide for numeric identities)', (keys, levels) => {
    // Only the finest set and the grand total: no line (no set one key coarser), so the total is
    // explained by its finest cells.
    const cells = wide(keys, levels);
    const s = buildCellStructure(cells, keys);
    expect(s.groups).toHaveLength(0);
    expect([...s.descendantsOf(levels)].sort((a, b) => a - b)).toEqual(Array.from({ length: levels }, (_, i) => i));
    expect(s.ancestorsOf(0)).toEqual([0, levels]);
  });

  it('links a cell to its parent along each key when that grouping set is present', () => {
    const cells: Cell[] = [
      { index: 0, grouping: 0, keys: ['a', 'x'], units: 3 },
      { index: 1, grouping: 0, keys: ['b', 'x'], units: 4 },
      { index: 2, grouping: 0, keys: ['b', 'y'], units: 5 },
      { index: 3, grouping: 1, keys: ['a', null], units: 3 },
      { index: 4, grouping: 1, keys: ['b', null], units: 9 },
      { index: 5, grouping: 3, keys: [null, null], units: 12 },
    ];
    const s = buildCellStructure(cells, 2);
    const lines = s.groups.map((g) => [g.parent, [...g.children].sort()]);
    expect(lines).toEqual(expect.arrayContaining([[3, [0]], [4, [1, 2]], [5, [3, 4]]]));
    expect(lines).toHaveLength(3);
    expect([...s.descendantsOf(5)].sort()).toEqual([0, 1, 2]);
  });
});
