import { randomFillSync } from 'node:crypto';

/** Unbiased random integers below `bound` from node:crypto, drawn in blocks. */
class RandomInts {
  private readonly buf = new Uint32Array(16384);
  private at = this.buf.length;

  below(bound: number): number {
    if (bound <= 1) return 0;
    const limit = Math.floor(0x1_0000_0000 / bound) * bound; // reject the incomplete last block of 2^32
    for (;;) {
      if (this.at === this.buf.length) { randomFillSync(this.buf); this.at = 0; }
      const r = this.buf[this.at++]!;
      if (r < limit) return r % bound;
    }
  }
}

/** A uniformly random permutation of 0 … n − 1: Fisher–Yates (Durstenfeld) with a CSPRNG. */
export function randomPermutation(n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rnd = new RandomInts();
  for (let i = n - 1; i > 0; i--) {
    const j = rnd.below(i + 1);
    const t = p[i]!; p[i] = p[j]!; p[j] = t;
  }
  return p;
}

/** out[k] = record perm[k] of src (records of `size` bytes). */
export function permuteRecords(src: Uint8Array, perm: Uint32Array, size = 32): Uint8Array {
  const out = new Uint8Array(perm.length * size);
  for (let k = 0; k < perm.length; k++) {
    const from = perm[k]! * size;
    out.set(src.subarray(from, from + size), k * size);
  }
  return out;
}
