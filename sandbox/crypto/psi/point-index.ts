import { randomFillSync } from 'node:crypto';

/**
 * A hash index over 32-byte points held in one buffer (open addressing, linear probing). The slot
 * hash mixes all eight words with multipliers drawn at random per index, so a peer cannot choose
 * points that pile into one probe sequence.
 */
export class PointIndex {
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly words: Uint32Array;
  private readonly mul = new Uint32Array(8);
  size = 0;

  /** `points` holds the indexed points (32 bytes each, 4-byte aligned); `capacity` is how many may be added. */
  constructor(points: Uint8Array, capacity: number) {
    if (points.byteOffset % 4 !== 0) throw new RangeError('PointIndex: points must be 4-byte aligned');
    this.words = new Uint32Array(points.buffer, points.byteOffset, points.byteLength >>> 2);
    let cap = 16;
    while (cap < 2 * capacity) cap *= 2;
    this.table = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    randomFillSync(this.mul);
    for (let k = 0; k < 8; k++) this.mul[k]! |= 1;
  }

  private hash(w: Uint32Array, at: number): number {
    let h = 0;
    for (let k = 0; k < 8; k++) h = (h ^ Math.imul(w[at + k]!, this.mul[k]!)) >>> 0;
    return (h ^ (h >>> 15)) & this.mask;
  }

  private same(w: Uint32Array, at: number, i: number): boolean {
    const b = 8 * i, ws = this.words;
    for (let k = 0; k < 8; k++) if (ws[b + k] !== w[at + k]) return false;
    return true;
  }

  /** Adds point i of the indexed buffer unless an equal point is there: returns that point's index, or −1 when added. */
  add(i: number): number {
    const w = this.words, at = 8 * i;
    let s = this.hash(w, at);
    for (;;) {
      const j = this.table[s]!;
      if (j < 0) { this.table[s] = i; this.size++; return -1; }
      if (this.same(w, at, j)) return j;
      s = (s + 1) & this.mask;
    }
  }

  /** The index of the point equal to point k of `other` (32 bytes each, 4-byte aligned), or −1. */
  find(other: Uint32Array, k: number): number {
    const at = 8 * k;
    let s = this.hash(other, at);
    for (;;) {
      const j = this.table[s]!;
      if (j < 0) return -1;
      if (this.same(other, at, j)) return j;
      s = (s + 1) & this.mask;
    }
  }
}

/** A 4-byte-aligned Uint32Array view of points, copying only when the bytes are not aligned. */
export function wordsOf(points: Uint8Array): Uint32Array {
  const p = points.byteOffset % 4 === 0 ? points : points.slice();
  return new Uint32Array(p.buffer, p.byteOffset, p.byteLength >>> 2);
}
