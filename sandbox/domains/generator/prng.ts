import { createHash } from 'node:crypto';

/**
 * Seeded pseudo-random numbers for the synthetic city. sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting generator, 128-bit state, passes PractRand to terabytes) in 32-bit integer arithmetic,
 * which V8 runs without boxing. No global state: every stream is keyed by the seed and a label
 * (task, house id …), so the same inputs give the same numbers on any thread, in any order.
 */
export type SeedKey = readonly [number, number, number, number];

/** 128 bits of key material from the seed string and labels (SHA-256, first 16 bytes). */
export function seedKey(seed: string, ...labels: (string | number)[]): SeedKey {
  const digest = createHash('sha256').update(JSON.stringify([seed, ...labels])).digest();
  return [digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)];
}

/** murmur3's 32-bit finaliser: a cheap bijective mix of one word. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0; this.b = b | 0; this.c = c | 0; this.d = d | 0;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** The stream for item `index` (0 … 2^53) of a keyed family, e.g. house number `index`. */
  static at(key: SeedKey, index: number, stream = 0): Rng {
    const lo = index >>> 0;
    const hi = Math.floor(index / 4294967296) >>> 0;
    return new Rng(key[0] ^ mix32(lo), key[1] ^ mix32(hi ^ 0x9e3779b9), key[2] ^ mix32(stream + 0x7f4a7c15), key[3] ^ mix32(lo + 0x632be5ab));
  }

  static of(key: SeedKey): Rng {
    return new Rng(key[0], key[1], key[2], key[3]);
  }

  /** Next 32 random bits as an unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n), n ≤ 2^32. */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  between(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /**
   * An index drawn with probability proportional to weights, given as a cumulative
   * (non-decreasing) array; `from`/`to` restrict the draw to a slice [from, to).
   */
  pickCumulative(cum: Float64Array, from = 0, to = cum.length): number {
    const base = from > 0 ? (cum[from - 1] ?? 0) : 0;
    const total = (cum[to - 1] ?? 0) - base;
    const target = base + this.float() * total;
    let lo = from;
    let hi = to - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cum[mid] ?? 0) > target) hi = mid; else lo = mid + 1;
    }
    return lo;
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Standard normal (Box–Muller, one value per call). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** Cumulative sums of weights, for Rng.pickCumulative. */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i] ?? 0;
    out[i] = sum;
  }
  return out;
}
