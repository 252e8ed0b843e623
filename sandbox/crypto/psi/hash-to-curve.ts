import { Curve25519Wasm, IN_STRIDE, MAX_BATCH } from './curve25519.wasm.ts';
import { uOfSumFromFieldBytes } from './hash-to-curve.reference.ts';
import { sodium } from './sodium.ts';

/**
 * Hashing items to curve25519 points for the PSI: RFC 9380 with expand_message_xmd(SHA-512) and
 * Elligator 2, returning the Montgomery u-coordinate X25519 takes (32 bytes, little-endian).
 *
 *  - 'NU' = curve25519_XMD:SHA-512_ELL2_NU_ (encode_to_curve: one map), the default: points of
 *    unknown discrete logarithm on the curve (never the twist), not uniform over it; enough for
 *    DH-PSI because Elligator 2 is invertible (docs/protocols.md, "Curve and hash-to-curve");
 *  - 'RO' = curve25519_XMD:SHA-512_ELL2_RO_ (hash_to_curve: two maps added; statistically close
 *    to uniform, a random oracle into the curve), twice the hashing cost.
 * Both stop before clear_cofactor: the points only ever enter X25519, whose clamped scalar is a
 * multiple of 8, so k·H(x) = (k/8)·(8·H(x)) — the cofactor is cleared by the blinding itself.
 * The tests check the full suites (with ×8) against RFC 9380 Appendix J.4.
 */
export type HashSuite = 'RO' | 'NU';
export const HASH_SUITES: readonly HashSuite[] = ['RO', 'NU'];
/** The suite a session uses unless told otherwise (both sides must use the same). */
export const DEFAULT_SUITE: HashSuite = 'NU';

/** Domain-separation tags of the lab's PSI (RFC 9380 §3.1: one tag per application and suite). */
export const PSI_DST: Readonly<Record<HashSuite, string>> = {
  RO: 'DataLab-PSI-V01-CS01-with-curve25519_XMD:SHA-512_ELL2_RO_',
  NU: 'DataLab-PSI-V01-CS01-with-curve25519_XMD:SHA-512_ELL2_NU_',
};

/** Items packed for hashing and for crossing to a worker thread: item k is bytes[offsets[k] .. offsets[k + 1]). */
export interface PackedItems {
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
}

const ENCODER = new TextEncoder();

/** Packs strings (as UTF-8) or byte strings. */
export function packItems(items: readonly (string | Uint8Array)[]): PackedItems {
  const offsets = new Uint32Array(items.length + 1);
  let total = 0;
  const encoded: Uint8Array[] = new Array<Uint8Array>(items.length);
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    const b = typeof it === 'string' ? ENCODER.encode(it) : it;
    encoded[k] = b;
    total += b.length;
    offsets[k + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let k = 0; k < items.length; k++) bytes.set(encoded[k]!, offsets[k]!);
  return { bytes, offsets };
}

export const packedCount = (p: PackedItems): number => p.offsets.length - 1;

/** One hasher per thread (it owns a WebAssembly instance and scratch buffers). */
export class HashToCurve {
  private readonly wasm = new Curve25519Wasm();
  private readonly tail: Uint8Array;
  private readonly b1In: Uint8Array;
  private readonly b2In: Uint8Array;
  private readonly b0 = new Uint8Array(64);
  private scratch: Uint8Array = new Uint8Array(1024);
  private readonly dstPrime: Uint8Array;

  constructor(readonly suite: HashSuite, dst: string | Uint8Array = PSI_DST[suite]) {
    const d = typeof dst === 'string' ? ENCODER.encode(dst) : dst;
    if (d.length > 255) throw new RangeError('hash-to-curve: DST longer than 255 bytes');
    this.dstPrime = new Uint8Array([...d, d.length]);
    const len = suite === 'RO' ? 96 : 48; // count × L, L = 48
    this.tail = new Uint8Array([len >> 8, len & 0xff, 0, ...this.dstPrime]);
    this.b1In = new Uint8Array([...new Uint8Array(64), 1, ...this.dstPrime]);
    this.b2In = new Uint8Array([...new Uint8Array(64), 2, ...this.dstPrime]);
  }

  /** u-coordinates of items [from, to) of `items`, 32 bytes each, into out at outOffset. */
  hashPacked(items: PackedItems, from: number, to: number, out: Uint8Array, outOffset: number): void {
    const { bytes, offsets } = items;
    for (let start = from; start < to; start += MAX_BATCH) {
      const n = Math.min(MAX_BATCH, to - start);
      for (let k = 0; k < n; k++) {
        const a = offsets[start + k]!, b = offsets[start + k + 1]!;
        this.expand(bytes.subarray(a, b), this.wasm.inputOffset + k * IN_STRIDE);
      }
      this.runBatch(n, out, outOffset + (start - from) * 32);
    }
  }

  /**
   * The same from hash_to_field output given directly (48 big-endian bytes per element; RO takes
   * two per item, u0 ‖ u1): for tests, which need inputs no hash would produce in practice.
   */
  mapFieldBytes(fields: Uint8Array, n: number): Uint8Array {
    const per = this.suite === 'RO' ? 96 : 48;
    if (fields.length !== per * n) throw new RangeError('mapFieldBytes: length');
    const out = new Uint8Array(32 * n);
    for (let start = 0; start < n; start += MAX_BATCH) {
      const m = Math.min(MAX_BATCH, n - start);
      for (let k = 0; k < m; k++) this.wasm.mem.set(fields.subarray(per * (start + k), per * (start + k + 1)), this.wasm.inputOffset + k * IN_STRIDE);
      this.runBatch(m, out, 32 * start);
    }
    return out;
  }

  /** Maps the n inputs in the module's memory and copies the u-coordinates to out[o …]. */
  private runBatch(n: number, out: Uint8Array, o: number): void {
    const mem = this.wasm.mem;
    if (this.suite === 'RO') this.wasm.h2cRO(n);
    else this.wasm.h2cNU(n);
    out.set(mem.subarray(this.wasm.outputOffset, this.wasm.outputOffset + 32 * n), o);
    if (this.suite !== 'RO') return;
    for (let k = 0; k < n; k++) {
      if (!this.wasm.flag(k)) continue; // Q0 = ±Q1: the reference adds them (doubling) or throws (identity)
      const at = this.wasm.inputOffset + k * IN_STRIDE;
      out.set(uOfSumFromFieldBytes(mem.subarray(at, at + 96)), o + 32 * k);
    }
  }

  /** Convenience: hash a list of items, 32 bytes per item. */
  hash(items: readonly (string | Uint8Array)[]): Uint8Array {
    const packed = packItems(items);
    const out = new Uint8Array(32 * items.length);
    this.hashPacked(packed, 0, items.length, out, 0);
    return out;
  }

  /** expand_message_xmd(msg, DST, 48 or 96) written at `at` in the module's memory (b1 ‖ b2, 128 bytes). */
  private expand(msg: Uint8Array, at: number): void {
    const need = 128 + msg.length + this.tail.length;
    if (this.scratch.length < need) this.scratch = new Uint8Array(Math.max(need, 2 * this.scratch.length));
    const s = this.scratch;
    s.set(msg, 128); // s[0..128) stays zero: Z_pad
    s.set(this.tail, 128 + msg.length);
    sodium.crypto_hash_sha512(this.b0, s.subarray(0, need));
    const mem = this.wasm.mem;
    this.b1In.set(this.b0, 0);
    const b1 = mem.subarray(at, at + 64);
    sodium.crypto_hash_sha512(b1, this.b1In);
    if (this.suite === 'RO') {
      const x = this.b2In;
      for (let k = 0; k < 64; k++) x[k] = this.b0[k]! ^ b1[k]!;
      sodium.crypto_hash_sha512(mem.subarray(at + 64, at + 128), x);
    }
  }

  /**
   * Checks received u-coordinates (32 bytes each): canonical, not of low order, on the curve.
   * The curve test is batched over random subsets (curve25519.wasm.ts): a list holding a twist
   * point passes with probability 2^−64.
   */
  validPoints(points: Uint8Array, from: number, to: number): boolean {
    const mem = this.wasm.mem;
    const bits = new Uint8Array(8 * MAX_BATCH);
    for (let start = from; start < to; start += MAX_BATCH) {
      const n = Math.min(MAX_BATCH, to - start);
      mem.set(points.subarray(32 * start, 32 * (start + n)), this.wasm.inputOffset);
      sodium.randombytes_buf(bits.subarray(0, 8 * n));
      mem.set(bits.subarray(0, 8 * n), this.wasm.bitsOffset);
      if (!this.wasm.checkPoints(n, 64)) return false;
    }
    return true;
  }
}
