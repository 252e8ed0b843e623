import highsModule, { type LegacyHighs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AggregateTable } from '../pipeline/relation.ts';
import { buildCellStructure, type Cell } from './cell-structure.ts';
import { DEFAULT_STAFF_PARAMS } from './guard-params.ts';
import { KEYS, makeRows, rng, table } from './guard-test-tables.ts';
import { priorReleasesFrom } from './release-ledger.ts';
import { audit, linePass } from './secondary-suppression.ts';
import { cellKeyOffset, contributionStep, guardForStaff, listedCells, meanStep, type RawRow } from './staff-guard.ts';

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

/** Per input row: suppressed unless the output lists it as released (an unlisted cell is suppressed). */
function suppressedOf(rows: readonly RawRow[], out: ReturnType<typeof guardForStaff>): boolean[] {
  const released = new Set(out.rows.filter((r) => !r.suppressed).map((r) => `${r.grouping}|${r.keys.map(String).join(',')}`));
  return rows.map((r) => !released.has(`${String(r['__grouping'])}|${KEYS.map((k) => String(r[k])).join(',')}`));
}

describe('staff disclosure guard', () => {
  it('suppresses small cells, rounds the rest to 5, never shows a suppressed value', () => {
    const rows = makeRows(1);
    const out = guardForStaff(table, rows, DEFAULT_STAFF_PARAMS);
    const suppressed = suppressedOf(rows, out);
    // Listed: every released cell, and the suppressed cells that hold a released one.
    expect(out.rows.filter((r) => !r.suppressed)).toHaveLength(suppressed.filter((x) => !x).length);
    expect(out.rows.length).toBeLessThan(rows.length);
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
    expect(suppressed.filter(Boolean).length).toBeGreaterThan(rows.filter((r) => Number(r['persons']) <= 7).length); // secondary suppression happened
    expect(out.guard.suppressed).toBe(out.rows.filter((r) => r.suppressed).length);
    expect(JSON.stringify(out)).not.toMatch(/primary|secondary/);
  });

  it.each([1, 2, 3, 66, 95, 96, 117])('no suppressed cell can be recovered from the released cells (LP feasible ranges, seed %i)', (seed) => {
    const rows = makeRows(seed);
    const out = guardForStaff(table, rows, DEFAULT_STAFF_PARAMS);
    const suppressed = suppressedOf(rows, out);
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
      { district_code: 'A', __grouping: 0, __units: 20, wage: 100_000, __top1_wage: 95_000, __top2_wage: 1_000, __nz_wage: 20 }, // dominated
      { district_code: 'B', __grouping: 0, __units: 20, wage: 100_000, __top1_wage: 9_000, __top2_wage: 8_000, __nz_wage: 20 },
      { district_code: 'C', __grouping: 0, __units: 20, wage: 90_000, __top1_wage: 8_000, __top2_wage: 7_000, __nz_wage: 20 },
      { district_code: null, __grouping: 1, __units: 60, wage: 290_000, __top1_wage: 95_000, __top2_wage: 9_000, __nz_wage: 60 },
    ];
    const out = guardForStaff(sumTable, rows, DEFAULT_STAFF_PARAMS);
    const released = (k: string | null) => out.rows.find((r) => r.keys[0] === k)?.suppressed === false;
    expect(released('A')).toBe(false);
    expect(released(null)).toBe(true);
    expect(released('B') && released('C')).toBe(false); // A cannot be recovered from the total
  });

  it('applies the count threshold to the persons contributing a non-zero amount to a sum or mean (0 included)', () => {
    const t: AggregateTable = {
      ...table, keys: [table.keys[0]!], groupingSets: [['district_code']],
      measures: [{ name: 'persons', kind: 'count_persons', label: { zh: '人数', en: 'Persons' } }, { name: 'sm', kind: 'sum', label: { zh: '指标', en: 'Indicator' } }],
    };
    // A 0/1 indicator: the sum is the number of persons with the attribute.
    const row = (d: string, k: number): RawRow => ({ district_code: d, __grouping: 0, __units: 40, persons: 40, sm: k, __top1_sm: k > 0 ? 1 : 0, __top2_sm: k > 1 ? 1 : 0, __nz_sm: k });
    const out = guardForStaff(t, [row('A', 0), row('B', 1), row('C', 3), row('D', 7), row('E', 8), row('F', 20)], DEFAULT_STAFF_PARAMS);
    const get = (d: string) => out.rows.find((r) => r.keys[0] === d);
    for (const d of ['A', 'B', 'C', 'D']) expect(get(d), d).toBeUndefined();
    expect(get('E')?.values).toEqual([40, 10]);
    expect(get('F')?.values).toEqual([40, 20]);
    // Without the column the rule is not skipped: the cell is suppressed.
    const bare = { ...row('G', 20) };
    delete (bare as Record<string, unknown>)['__nz_sm'];
    expect(guardForStaff(t, [bare], DEFAULT_STAFF_PARAMS).rows).toEqual([]);
  });

  it('sums are rounded and moved like counts: a sum of 1 is the released count, with and without cell-key noise', () => {
    const t: AggregateTable = {
      ...table, keys: [table.keys[0]!], groupingSets: [['district_code']],
      measures: [{ name: 'persons', kind: 'count_persons', label: { zh: '人数', en: 'Persons' } }, { name: 'n', kind: 'sum', label: { zh: '一', en: 'One' } }],
    };
    const r = rng(9);
    const rows: RawRow[] = Array.from({ length: 200 }, (_, i) => {
      const n = 8 + Math.floor(r() * 200);
      const fp = String(BigInt(Math.floor(r() * 2 ** 52)) * 2n ** 20n);
      return { district_code: `d${i}`, __grouping: 0, __units: n, persons: n, n, __top1_n: 1, __top2_n: 1, __nz_n: n, __fp: fp };
    });
    for (const params of [DEFAULT_STAFF_PARAMS, { ...DEFAULT_STAFF_PARAMS, cellKeyNoise: { d: 2 } }]) {
      const out = guardForStaff(t, rows, params);
      let moved = 0;
      for (const [i, row] of out.rows.entries()) {
        expect(row.values[1]! % 5).toBe(0);
        expect(row.values[1], `row ${i}`).toBe(row.values[0]);
        if (row.values[0] !== Math.round(Number(rows.find((x) => x['district_code'] === row.keys[0])?.['persons']) / 5) * 5) moved++;
      }
      if (params.cellKeyNoise) expect(moved).toBeGreaterThan(20); else expect(moved).toBe(0);
    }
  });

  it('a sum of a constant c per person is no more precise than the rounded count times c; two sums one person apart differ by 0 or a multiple of 5 × c', () => {
    expect([0, 0.4, 1, 1.5, 3, 7, 1000, 1001, 23456].map(contributionStep)).toEqual([1, 1, 1, 2, 5, 10, 1000, 2000, 50000]);
    const t: AggregateTable = {
      ...table, keys: [table.keys[0]!], groupingSets: [['district_code']],
      measures: [{ name: 'persons', kind: 'count_persons', label: { zh: '人数', en: 'Persons' } }, { name: 'k', kind: 'sum', label: { zh: '千', en: 'Thousand' } }],
    };
    for (const n of [8, 9, 12, 13, 49, 51, 200]) {
      const out = guardForStaff(t, [{ district_code: 'A', __grouping: 0, __units: n, persons: n, k: 1000 * n, __top1_k: 1000, __top2_k: 1000, __nz_k: n }], DEFAULT_STAFF_PARAMS);
      const [count, k] = out.rows[0]?.values ?? [];
      expect(k, `n = ${n}`).toBe(1000 * (count ?? NaN));
    }
    // Wages: the group with and without one person (her wage 6 000, the largest 23 456).
    const w: AggregateTable = { ...t, measures: [{ name: 'wages', kind: 'sum', label: { zh: '工资', en: 'Wages' } }] };
    for (const total of [812_345, 1_000_000, 1_126_999, 3_333_333]) {
      const released = (s: number) => guardForStaff(w, [{ district_code: 'A', __grouping: 0, __units: 100, wages: s, __top1_wages: 23_456, __top2_wages: 20_000, __nz_wages: 100 }], DEFAULT_STAFF_PARAMS).rows[0]?.values[0] ?? NaN;
      const estimate = released(total) - released(total - 6000);
      expect(Math.abs(estimate - 6000), `total ${total}: estimate ${estimate}`).toBeGreaterThan(600);
      expect(estimate % 250_000).toBe(0);
    }
  });

  it('a mean gives the sum no more precisely than the rounding: its step is at least rounding / n for every count the released one allows', () => {
    expect([0.05, 0.1, 0.11, 0.3, 0.625, 1.2, 4].map(meanStep)).toEqual([0.1, 0.1, 0.2, 0.5, 1, 2, 5]);
    const t: AggregateTable = {
      ...table, keys: [table.keys[0]!], groupingSets: [['district_code']],
      measures: [{ name: 'm', kind: 'mean', label: { zh: '均值', en: 'Mean' } }],
    };
    for (const n of [8, 9, 12, 13, 30, 49, 50, 51, 200]) {
      for (const sum of [n * 3 + 1, n * 8000 + 7, n * 0.37]) {
        const out = guardForStaff(t, [{ district_code: 'A', __grouping: 0, __units: n, m: sum / n, __top1_m: sum / n, __top2_m: sum / n, __nz_m: n }], DEFAULT_STAFF_PARAMS);
        const m = out.rows[0]?.values[0] as number;
        // Knowing n exactly, the attacker learns the sum to within n × step / 2: never closer than the sum's own rounding.
        const released = Math.round(n / 5) * 5;
        const sumStep = 5 * contributionStep(sum / n);
        const step = meanStep(sumStep / Math.max(8, Math.ceil(released - 2.5)));
        expect(n * step / 2, `n = ${n}`).toBeGreaterThanOrEqual(sumStep / 2);
        expect(Math.abs(m - sum / n), `n = ${n}, sum = ${sum}`).toBeLessThanOrEqual(step / 2 + 1e-9);
        expect(Math.abs(m / step - Math.round(m / step))).toBeLessThan(1e-9);
      }
    }
  });

  it('lists a suppressed cell only when it holds a released cell: which small cells exist is not shown', () => {
    const t2: AggregateTable = { ...table, keys: [table.keys[0]!, table.keys[2]!], groupingSets: [['district_code', 'sex'], ['district_code'], []] };
    const cell = (d: string | null, sex: string | null, n: number): RawRow => ({ district_code: d, sex, __grouping: (d === null ? 2 : 0) | (sex === null ? 1 : 0), __units: n, persons: n });
    // One person in a district, with or without a second small cell: the same output.
    const one = guardForStaff(t2, [cell('A', 'F', 1), cell('A', null, 1), cell(null, null, 1)], DEFAULT_STAFF_PARAMS);
    const two = guardForStaff(t2, [cell('A', 'F', 1), cell('A', 'M', 1), cell('A', null, 2), cell(null, null, 2)], DEFAULT_STAFF_PARAMS);
    expect(one.rows).toEqual([]);
    expect(two).toEqual(one);
    // A suppressed subtotal holding a released cell is listed (as suppressed); a suppressed cell
    // holding none is not, nor a grand total whose released cells are all elsewhere… it holds them all.
    const rows = [cell('A', 'F', 30), cell('A', 'M', 3), cell('A', null, 33), cell('B', 'F', 4), cell('B', 'M', 5), cell('B', null, 9), cell(null, null, 42)];
    const cells: Cell[] = rows.map((r, index) => ({ index, grouping: Number(r['__grouping']), units: Number(r['__units']), keys: [r['district_code'] as string | null, r['sex'] as string | null] }));
    const s = buildCellStructure(cells, 2);
    const sup = [false, true, true, true, true, false, true];
    expect(listedCells(s, sup)).toEqual([true, false, true, false, false, true, true]);
    expect(listedCells(s, [true, true, true, true, true, true, true])).toEqual([false, false, false, false, false, false, false]);
    const out = guardForStaff(t2, rows, DEFAULT_STAFF_PARAMS);
    expect(out.guard.cells).toBe(out.rows.length);
    expect(out.rows.some((r) => r.keys[0] === 'A' && r.keys[1] === 'M')).toBe(false);
  });

  it('against the ledger: the same contributors suppressed before stay suppressed under any keys; near sets of earlier suppressed cells too', () => {
    const t1: AggregateTable = { ...table, keys: [table.keys[0]!], groupingSets: [['district_code']] };
    const row = (d: string, n: number, fp: string): RawRow => ({ district_code: d, __grouping: 0, __units: n, persons: n, __fp: fp });
    const prior = priorReleasesFrom([
      { keyset: 'street_code', cell: '["s1"]', units: 20, fingerprint: '111', suppressed: true },
      { keyset: 'district_code', cell: '["B"]', units: 30, fingerprint: '222', suppressed: true },
      { keyset: 'district_code', cell: '["C"]', units: 40, fingerprint: '333' },
      { keyset: 'district_code', cell: '["D"]', units: 50, fingerprint: '444', suppressed: true },
      { keyset: 'district_code', cell: '["D"]', units: 50, fingerprint: '444' },
    ]);
    const entries: { fingerprint: string; suppressed?: boolean }[] = [];
    const out = guardForStaff(t1, [row('A', 20, '111'), row('B', 29, '555'), row('C', 40, '333'), row('D', 50, '444'), row('E', 60, '666'), row('F', 70, '777')], DEFAULT_STAFF_PARAMS, {
      prior, onReleased: (e) => entries.push(e), onSuppressed: (e) => entries.push(e),
    });
    const released = new Set(out.rows.filter((r) => !r.suppressed).map((r) => r.keys[0]));
    expect(released.has('A')).toBe(false); // same contributors as a suppressed street
    expect(released.has('B')).toBe(false); // one person fewer than a suppressed cell of the same keys
    expect(released.has('C')).toBe(true); // released before with the same contributors
    expect(released.has('D')).toBe(true); // released before as well: known already
    expect(entries.filter((e) => e.suppressed).map((e) => e.fingerprint).sort()).toEqual(['111', '555']);
    expect(entries.filter((e) => !e.suppressed).map((e) => e.fingerprint).sort()).toEqual(['333', '444', '666', '777']);
  });

  it('a dominated sum keeps its protection interval: the attacker\'s upper bound stays p % of its top contribution above it', () => {
    // One street, three communities: in A one person holds the whole sum (80), B sums to 0, C is large.
    const t2: AggregateTable = {
      ...table, keys: [table.keys[0]!, table.keys[1]!], groupingSets: [['district_code', 'street_code'], ['district_code']],
      measures: [{ name: 'persons', kind: 'count_persons', label: { zh: '人数', en: 'Persons' } }, { name: 'v', kind: 'sum', label: { zh: '值', en: 'Value' } }],
    };
    const row = (street: string | null, n: number, v: number, t1: number, t2v: number, nz: number): RawRow => ({
      district_code: 'D', street_code: street, __grouping: street === null ? 1 : 0, __units: n, persons: n, v, __top1_v: t1, __top2_v: t2v, __nz_v: nz,
    });
    const rows = [row('A', 20, 80, 80, 0, 1), row('B', 25, 0, 0, 0, 0), row('C', 30, 1500, 50, 50, 30), row('E', 40, 2000, 50, 50, 40), row(null, 115, 3580, 80, 50, 71)];
    const out = guardForStaff(t2, rows, DEFAULT_STAFF_PARAMS);
    const released = out.rows.filter((r) => !r.suppressed && r.values[1] !== null);
    // The attacker's LP: finest sums ≥ 0, every released sum exact; maximise A.
    const finest = ['A', 'B', 'C', 'E'];
    const eq = released.map((r, i) => ` e${i}: ${(r.grouping === 1 ? finest : [r.keys[1] as string]).map((k) => `x${k}`).join(' + ')} = ${rows.find((x) => x['street_code'] === (r.grouping === 1 ? null : r.keys[1]))?.['v'] as number}`);
    const lp = `Maximize\n obj: xA\nSubject To\n${eq.length ? eq.join('\n') : ' e0: xA >= 0'}\nBounds\n${finest.map((k) => ` x${k} >= 0`).join('\n')}\nEnd`;
    const hi = highs.solve(lp);
    const upper = hi.Status === 'Unbounded' ? Infinity : hi.ObjectiveValue;
    expect(upper, `released: ${released.map((r) => r.keys.join('|')).join(', ')}`).toBeGreaterThanOrEqual(80 + 0.1 * 80);
    expect(released.some((r) => r.grouping === 1)).toBe(true); // the street total is still released
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

  it('counts the values of a key over released cells only: a suppressed 41st value does not refuse the table', () => {
    const t3: AggregateTable = { ...table, keys: [table.keys[2]!], groupingSets: [['sex']] };
    const rows: RawRow[] = Array.from({ length: 40 }, (_, i) => ({ sex: `v${i}`, __grouping: 0, __units: 50, persons: 50 }));
    const out = guardForStaff(t3, [...rows, { sex: 'x', __grouping: 0, __units: 1, persons: 1 }], DEFAULT_STAFF_PARAMS);
    expect(out.rows.filter((r) => !r.suppressed)).toHaveLength(40);
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
