import { describe, expect, it } from 'vitest';
import { cumulative, Rng, seedKey } from './prng.ts';

describe('seeded random streams', () => {
  it('are a function of (seed, labels, index) only', () => {
    const key = seedKey('guangzhou', 'houses', 1000);
    const a = Rng.at(key, 42);
    const b = Rng.at(key, 42);
    const xs = Array.from({ length: 5 }, () => a.u32());
    expect(Array.from({ length: 5 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => Rng.at(key, 43).u32())).not.toEqual(xs);
    expect(Rng.at(seedKey('guangzhou-2', 'houses', 1000), 42).u32()).not.toBe(xs[0]);
  });

  it('draws in range and roughly uniformly', () => {
    const r = Rng.of(seedKey('x'));
    const counts = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = r.int(10);
      if (v < 0 || v >= 10 || !Number.isInteger(v)) outside++;
      else counts[v] = (counts[v] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(r.between(3, 5));
    expect([...seen].sort()).toEqual([3, 4, 5]);
  });

  it('picks proportionally to weights, also within a slice', () => {
    const r = Rng.of(seedKey('y'));
    const cum = cumulative([1, 0, 3, 6]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100_000; i++) { const k = r.pickCumulative(cum); counts[k] = (counts[k] ?? 0) + 1; }
    expect(counts[1]).toBe(0);
    expect(Math.abs((counts[0] ?? 0) / 100_000 - 0.1)).toBeLessThan(0.01);
    expect(Math.abs((counts[3] ?? 0) / 100_000 - 0.6)).toBeLessThan(0.01);
    const sliced = new Set<number>();
    for (let i = 0; i < 1000; i++) sliced.add(r.pickCumulative(cum, 2, 4));
    expect([...sliced].sort()).toEqual([2, 3]);
  });
});
