import highsModule, { type LegacyHighs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AggregateTable } from '../pipeline/relation.ts';
import { buildCellStructure, type Cell } from './cell-structure.ts';
import { DEFAULT_STAFF_PARAMS } from './guard-params.ts';
import { KEYS, makeRows, rng, table } from './guard-test-tables.ts';
import { audit, linePass } from './secondary-suppression.ts';
import { cellKeyOffset, guardForStaff, type RawRow } from './staff-guard.ts';

// highs ships a CommonJS typing whose default export TypeScript (NodeNext) sees as the namespace;
// at run time the ESM build's default export is the loader function itself.
type Loader = () => Promise<LegacyHighs>;
const loadHighs: Loader = (highsModule as unknown as { default?: Loader }).default ?? (highsModule as unknown as Loader);
let highs: LegacyHighs;
beforeAll(async () => { highs = await loadHighs(); });

const cellsOf = (rows: readonly RawRow[]): Cell[] => rows.map((r, index) => ({
  index, grouping: Number(r['__grouping']), units: Number(r['__units']), keys: KEYS.map((k) => (r[k] === null ? null : String(r[k]))),
}));

/**
 * The attacker's best: every released cell's exact (pre-rounding) value, every present cell ≥ 1.
 * Returns the [min, max] of each suppressed cell's value by linear programming.
 */
function feasibleRanges(rows: readonly RawRow[], suppressed: readonly boolean[]): Map<number, [number, number]> {
  const s = buildCellStructure(cellsOf(rows), KEYS.length);
  const x = (f: number) => `x${f}`;
  const known = s.cells.filter((c) => !suppressed[c.index]).map((c, i) => ` k${i}: ${s.descendantsOf(c.index).map(x).join(' + ')} = ${c.units}`);
  const bounds = s.finest.map((f) => ` ${x(f)} >= 1`);
  const out = new Map<number, [number, number]>();
  for (const c of s.cells) {
    if (!suppressed[c.index]) continue;
    const objective = s.descendantsOf(c.index).map(x).join(' + ');
    const lp = (sense: string) => `${sense}\n obj: ${objective}\nSubject To\n${known.join('\n')}\nBounds\n${bounds.join('\n')}\nEnd`;
    const lo = highs.solve(lp('Minimize'));
    const hi = highs.solve(lp('Maximize'));
    expect(lo.Status).toBe('Optimal');
    out.set(c.index, [lo.ObjectiveValue, hi.Status === 'Unbounded' ? Infinity : hi.ObjectiveValue]);
  }
  return out;
}

describe('staff disclosure guard', () => {
  it('suppresses small cells, rounds the rest to 5, never shows a suppressed value', () => {
    const rows = makeRows(1);
    const out = guardForStaff(table, rows, DEFAULT_STAFF_PARAMS);
    expect(out.rows).toHaveLength(rows.length);
    const truth = new Map(rows.map((r) => [`${String(r['__grouping'])}|${KEYS.map((k) => String(r[k])).join(',')}`, Number(r['persons'])]));
    for (const r of out.rows) {
      const v = truth.get(`${r.grouping}|${r.keys.map(String).join(',')}`) as number;
      if (v <= 7) expect(r.suppressed).toBe(true);
      if (r.suppressed) expect(r.values).toEqual([null]);
      else {
        expect(r.values[0]! % 5).toBe(0);
        expect(Math.abs(r.values[0]! - v)).toBeLessThanOrEqual(2);
      }
    }
    expect(out.guard.suppressed).toBeGreaterThan(rows.filter((r) => Number(r['persons']) <= 7).length); // secondary suppression happened
    expect(JSON.stringify(out)).not.toMatch(/primary|secondary/);
  });

  it.each([1, 2, 3, 66, 95, 96, 117])('no suppressed cell can be recovered from the released cells (LP feasible ranges, seed %i)', (seed) => {
    const rows = makeRows(seed);
    const out = guardForStaff(table, rows, DEFAULT_STAFF_PARAMS);
    const byId = new Map(out.rows.map((r) => [`${r.grouping}|${r.keys.map(String).join(',')}`, r.suppressed]));
    const suppressed = rows.map((r) => byId.get(`${String(r['__grouping'])}|${KEYS.map((k) => String(r[k])).join(',')}`) === true);
    const ranges = feasibleRanges(rows, suppressed);
    expect(ranges.size).toBeGreaterThan(0);
    for (const [cell, [lo, hi]] of ranges) {
      expect(hi - lo, `cell ${cell} is pinned to ${lo}`).toBeGreaterThanOrEqual(1);
      const v = Number(rows[cell]?.['persons']);
      expect(v).toBeGreaterThanOrEqual(lo - 1e-6);
      expect(v).toBeLessThanOrEqual(hi + 1e-6);
    }
  });

  it.each([4, 8, 11, 12])('on table %i the line rule alone would leave a cell recoverable (so the exact audit is needed)', (seed) => {
    const rows = makeRows(seed);
    const s = buildCellStructure(cellsOf(rows), KEYS.length);
    const suppressed = s.cells.map((c) => c.units <= DEFAULT_STAFF_PARAMS.threshold);
    linePass(s, suppressed);
    const pinned = [...feasibleRanges(rows, suppressed)].filter(([, [lo, hi]]) => hi - lo < 1e-6);
    expect(pinned.length).toBeGreaterThan(0);
  });

  it.each([1, 2, 3, 4, 8, 11, 12])('the exact audit finds precisely the cells LP pins down (suppressions after the line pass, seed %i)', (seed) => {
    const rows = makeRows(seed);
    const s = buildCellStructure(cellsOf(rows), KEYS.length);
    const suppressed = s.cells.map((c) => c.units <= DEFAULT_STAFF_PARAMS.threshold);
    linePass(s, suppressed);
    const flagged = new Set(audit(s, suppressed));
    for (const [cell, [lo, hi]] of feasibleRanges(rows, suppressed)) expect(flagged.has(cell), `cell ${cell}: range ${lo}..${hi}`).toBe(hi - lo < 1e-6);
  });

  it.each([11, 12, 13, 14])('the exact audit finds precisely the cells LP pins down (random suppressions, seed %i)', (seed) => {
    const rows = makeRows(seed);
    const r = rng(seed * 7);
    const suppressed = rows.map(() => r() < 0.3);
    const flagged = new Set(audit(buildCellStructure(cellsOf(rows), KEYS.length), suppressed));
    const ranges = feasibleRanges(rows, suppressed);
    for (const [cell, [lo, hi]] of ranges) expect(flagged.has(cell), `cell ${cell}: range ${lo}..${hi}`).toBe(hi - lo < 1e-6);
  });

  it('applies the p% and dominance rules to sums on per-person contributions', () => {
    const sumTable: AggregateTable = {
      ...table, keys: [table.keys[0]!], groupingSets: [['district_code'], []],
      measures: [{ name: 'wage', kind: 'sum', label: { zh: '工资', en: 'Wage' } }],
    };
    const rows: RawRow[] = [
      { district_code: 'A', __grouping: 0, __units: 20, wage: 100_000, __top1_wage: 95_000, __top2_wage: 1_000 }, // dominated
      { district_code: 'B', __grouping: 0, __units: 20, wage: 100_000, __top1_wage: 9_000, __top2_wage: 8_000 },
      { district_code: 'C', __grouping: 0, __units: 20, wage: 90_000, __top1_wage: 8_000, __top2_wage: 7_000 },
      { district_code: null, __grouping: 1, __units: 60, wage: 290_000, __top1_wage: 95_000, __top2_wage: 9_000 },
    ];
    const out = guardForStaff(sumTable, rows, DEFAULT_STAFF_PARAMS);
    const get = (k: string | null) => out.rows.find((r) => r.keys[0] === k);
    expect(get('A')?.suppressed).toBe(true);
    expect(get(null)?.suppressed).toBe(false);
    expect(get('B')?.suppressed || get('C')?.suppressed).toBe(true); // A cannot be recovered from the total
  });

  it('flags a cell holding every person of its parent', () => {
    const t2: AggregateTable = { ...table, keys: [table.keys[0]!, table.keys[2]!], groupingSets: [['district_code', 'sex'], ['district_code']] };
    const rows: RawRow[] = [
      { district_code: 'A', sex: 'F', __grouping: 0, __units: 30, persons: 30 },
      { district_code: 'A', sex: null, __grouping: 1, __units: 30, persons: 30 },
    ];
    const out = guardForStaff(t2, rows, DEFAULT_STAFF_PARAMS);
    expect(out.rows.find((r) => r.keys[1] === 'F')?.allOfParent).toBe(true);
  });

  it('refuses a non-geography key with more than 40 values, without naming any value', () => {
    const t3: AggregateTable = { ...table, keys: [table.keys[2]!], groupingSets: [['sex']] };
    const rows: RawRow[] = Array.from({ length: 41 }, (_, i) => ({ sex: `v${i}`, __grouping: 0, __units: 50, persons: 50 }));
    expect(() => guardForStaff(t3, rows, DEFAULT_STAFF_PARAMS)).toThrow(expect.objectContaining({ code: 'LAB-E065' }));
    try { guardForStaff(t3, rows, DEFAULT_STAFF_PARAMS); } catch (e) { expect(String((e as Error).message)).not.toContain('v1'); }
  });

  it('cell-key offsets are in −d…d, about uniform and zero-mean, and a fixed function of the fingerprint', () => {
    const r = rng(5);
    const counts = new Map<number, number>();
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      // Fingerprints are sums of signed 64-bit hashes: any sign, up to ~2^80.
      const fp = (BigInt(Math.floor(r() * 2 ** 52)) * 2n ** 28n + BigInt(Math.floor(r() * 2 ** 28))) * (r() < 0.5 ? -1n : 1n);
      const o = cellKeyOffset(fp.toString(), 2);
      expect(o).toBe(cellKeyOffset(fp.toString(), 2));
      counts.set(o, (counts.get(o) ?? 0) + 1);
      sum += o;
    }
    expect([...counts.keys()].sort()).toEqual([-1, -2, 0, 1, 2].sort());
    for (const c of counts.values()) expect(Math.abs(c / n - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(sum / n)).toBeLessThan(0.05);
  });
});
