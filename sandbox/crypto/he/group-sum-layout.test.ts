import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planGroupSumLayout, type GroupSumLayout } from './group-sum-layout.ts';

/** t of the default parameter set (45 bits, a batching prime for N = 8192). */
const T45 = 35184371613697n;
const space = { slotCount: 8192, plainModulus: T45 };

function fieldsOf(l: GroupSumLayout) {
  return [...l.count, ...l.sum];
}

describe('grouped-sum slot layout', () => {
  it('1 M rows × 8 groups, values ≤ 100 000: a sum field per lane, two count fields per lane', () => {
    const l = planGroupSumLayout({ groups: 8, positions: 1_000_000, maxRows: 1_000_000, maxValue: 100_000 }, space);
    expect(l.capacity).toBe(44); // bitLength(t) − 1
    expect(l.countBits).toBe(20); // 1 000 000 < 2^20
    expect(l.sumBits).toBe(37); // 10^11 < 2^37
    expect(l.lanesPerRow).toBe(12);
    expect(l.rowsPerCiphertext).toBe(682);
    expect(l.ciphertextCount).toBe(Math.ceil(1_000_000 / 682));
  });

  it('shares lanes between fields when their widths fit (first fit, wider fields first)', () => {
    const l = planGroupSumLayout({ groups: 16, positions: 1000, maxRows: 1000, maxValue: 1000 }, space);
    // sums 20 bits: two per lane (8 lanes); counts 10 bits: four per lane (4 lanes); 12 lanes, not 32
    expect([l.countBits, l.sumBits]).toEqual([10, 20]);
    expect(l.lanesPerRow).toBe(12);
    expect(new Set(l.sum.map((f) => f.lane)).size).toBe(8);
    expect(new Set(l.count.map((f) => f.lane)).size).toBe(4);
  });

  it('refuses when rows × maximum value could wrap modulo t (LAB-E112), accepts one below', () => {
    // 2^22 rows × (2^22 − 1) < 2^44 fits; with 2^22 as the maximum the sum needs 45 bits
    expect(planGroupSumLayout({ groups: 8, positions: 2 ** 22, maxRows: 2 ** 22, maxValue: 2 ** 22 - 1 }, space).sumBits).toBe(44);
    expect(() => planGroupSumLayout({ groups: 8, positions: 2 ** 22, maxRows: 2 ** 22, maxValue: 2 ** 22 }, space)).toThrow(expect.objectContaining({ code: 'LAB-E112', field: 'maxValue' }));
    expect(() => planGroupSumLayout({ groups: 8, positions: 1_000_000, maxRows: 1_000_000, maxValue: 2 ** 30 }, space)).toThrow(expect.objectContaining({ code: 'LAB-E112' }));
  });

  it('refuses impossible shapes', () => {
    expect(() => planGroupSumLayout({ groups: 0, positions: 10, maxRows: 10, maxValue: 1 }, space)).toThrow(expect.objectContaining({ code: 'LAB-E117' }));
    expect(() => planGroupSumLayout({ groups: 513, positions: 10, maxRows: 10, maxValue: 1 }, space)).toThrow(expect.objectContaining({ code: 'LAB-E117' }));
    expect(() => planGroupSumLayout({ groups: 8, positions: -1, maxRows: 10, maxValue: 1 }, space)).toThrow(expect.objectContaining({ code: 'LAB-E113' }));
    expect(() => planGroupSumLayout({ groups: 8, positions: 10, maxRows: 10, maxValue: 1.5 }, space)).toThrow(expect.objectContaining({ code: 'LAB-E113' }));
  });

  it('fields never overlap, stay inside the lane capacity, and every group has both', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 5_000_000 }), fc.integer({ min: 0, max: 2 ** 20 }),
      (groups, rowCount, maxValue) => {
        let l: GroupSumLayout;
        try {
          l = planGroupSumLayout({ groups, positions: rowCount, maxRows: rowCount, maxValue }, space);
        } catch {
          return BigInt(rowCount) * BigInt(maxValue) >= 2n ** 44n; // refused only when it could overflow
        }
        expect(l.count).toHaveLength(groups);
        expect(l.sum).toHaveLength(groups);
        const byLane = new Map<number, [number, number][]>();
        for (const f of fieldsOf(l)) {
          expect(f.lane).toBeLessThan(l.lanesPerRow);
          expect(f.shift + f.width).toBeLessThanOrEqual(l.capacity);
          byLane.set(f.lane, [...(byLane.get(f.lane) ?? []), [f.shift, f.shift + f.width]]);
        }
        for (const ranges of byLane.values()) {
          ranges.sort((a, b) => a[0] - b[0]);
          for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
        }
        expect(l.rowsPerCiphertext * l.lanesPerRow).toBeLessThanOrEqual(8192);
        expect(l.ciphertextCount * l.rowsPerCiphertext).toBeGreaterThanOrEqual(rowCount);
        return true;
      },
    ), { numRuns: 300 });
  });
});
