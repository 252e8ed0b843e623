import { createHash } from 'node:crypto';
import { J, P, modPow } from './curve25519.wasm.ts';

/**
 * RFC 9380 hash_to_curve for curve25519 written the plain way, with BigInt, following the RFC's
 * generic text (§5.3 expand_message_xmd, §5.2 hash_to_field, §6.7.1 map_to_curve_elligator2,
 * §6.6.1… Montgomery addition, clear_cofactor = ×8). It is slow (≈ 1 ms a point) and serves as the
 * reference: the tests check it against the RFC's vectors and the fast WebAssembly path against
 * it; the fast path falls back to it for the sums it flags as exceptional.
 */

export type Point = { readonly x: bigint; readonly y: bigint } | 'identity';

const mod = (a: bigint): bigint => ((a % P) + P) % P;
const inv = (a: bigint): bigint => modPow(a, P - 2n);
const isSquare = (a: bigint): boolean => { const c = modPow(a, (P - 1n) / 2n); return c === 0n || c === 1n; };
const sgn0 = (a: bigint): number => Number(mod(a) & 1n);
const SQRT_M1 = modPow(2n, (P - 1n) / 4n);

export function sqrt(a: bigint): bigint {
  const r = modPow(a, (P + 3n) / 8n);
  if (mod(r * r) === mod(a)) return r;
  const r2 = mod(r * SQRT_M1);
  if (mod(r2 * r2) === mod(a)) return r2;
  throw new Error('not a square');
}

/** expand_message_xmd with SHA-512 (RFC 9380 §5.3.1). */
export function expandMessageXmd(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  const b = 64, s = 128;
  const ell = Math.ceil(lenInBytes / b);
  if (ell > 255 || lenInBytes > 65535 || dst.length > 255) throw new Error('expand_message_xmd: bad lengths');
  const dstPrime = Buffer.concat([dst, Buffer.from([dst.length])]);
  const lib = Buffer.from([lenInBytes >> 8, lenInBytes & 0xff]);
  const b0 = createHash('sha512').update(Buffer.alloc(s)).update(msg).update(lib).update(Buffer.from([0])).update(dstPrime).digest();
  const out: Buffer[] = [];
  let prev = createHash('sha512').update(b0).update(Buffer.from([1])).update(dstPrime).digest();
  out.push(prev);
  for (let i = 2; i <= ell; i++) {
    const x = Buffer.alloc(b);
    for (let k = 0; k < b; k++) x[k] = b0[k]! ^ prev[k]!;
    prev = createHash('sha512').update(x).update(Buffer.from([i])).update(dstPrime).digest();
    out.push(prev);
  }
  return new Uint8Array(Buffer.concat(out).subarray(0, lenInBytes));
}

/** hash_to_field for GF(p), L = 48 (RFC 9380 §5.2). */
export function hashToField(msg: Uint8Array, dst: Uint8Array, count: number): bigint[] {
  const bytes = expandMessageXmd(msg, dst, count * 48);
  return Array.from({ length: count }, (_, i) => BigInt(`0x${Buffer.from(bytes.subarray(48 * i, 48 * i + 48)).toString('hex')}`) % P);
}

/** map_to_curve_elligator2 for curve25519 (RFC 9380 §6.7.1, K = 1, Z = 2). */
export function mapToCurve(u: bigint): { x: bigint; y: bigint } {
  const Z = 2n;
  let x1 = mod(-J * inv(mod(1n + Z * u * u))); // 1 + 2u² ≠ 0 for every u (−1/2 is not a square)
  if (x1 === 0n) x1 = mod(-J);
  const gx1 = mod(x1 * x1 * x1 + J * x1 * x1 + x1);
  const x2 = mod(-x1 - J);
  const gx2 = mod(x2 * x2 * x2 + J * x2 * x2 + x2);
  if (isSquare(gx1)) {
    let y = sqrt(gx1);
    if (sgn0(y) !== 1) y = mod(-y);
    return { x: x1, y };
  }
  let y = sqrt(gx2);
  if (sgn0(y) !== 0) y = mod(-y);
  return { x: x2, y };
}

/** Affine addition on v² = u³ + J·u² + u, every case included. */
export function add(a: Point, b: Point): Point {
  if (a === 'identity') return b;
  if (b === 'identity') return a;
  let lambda: bigint;
  if (a.x === b.x) {
    if (mod(a.y + b.y) === 0n) return 'identity';
    lambda = mod((3n * a.x * a.x + 2n * J * a.x + 1n) * inv(mod(2n * a.y)));
  } else {
    lambda = mod((b.y - a.y) * inv(mod(b.x - a.x)));
  }
  const x = mod(lambda * lambda - J - a.x - b.x);
  return { x, y: mod(lambda * (a.x - x) - a.y) };
}

export const clearCofactor = (p: Point): Point => { let q = p; for (let i = 0; i < 3; i++) q = add(q, q); return q; };

/** hash_to_curve (curve25519_XMD:SHA-512_ELL2_RO_); `clear` false stops before clear_cofactor. */
export function hashToCurve(msg: Uint8Array, dst: Uint8Array, clear = true): Point {
  const [u0, u1] = hashToField(msg, dst, 2) as [bigint, bigint];
  const q = add(mapToCurve(u0), mapToCurve(u1));
  return clear ? clearCofactor(q) : q;
}

/** encode_to_curve (curve25519_XMD:SHA-512_ELL2_NU_); `clear` false stops before clear_cofactor. */
export function encodeToCurve(msg: Uint8Array, dst: Uint8Array, clear = true): Point {
  const [u0] = hashToField(msg, dst, 1) as [bigint];
  const q = mapToCurve(u0);
  return clear ? clearCofactor(q) : q;
}

/** 32-byte little-endian encoding of a u-coordinate (RFC 7748). */
export function uBytes(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = mod(x);
  for (let i = 0; i < 32; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export function uFromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/**
 * The reference for one fast-path output: u of the sum of the two maps of (u0, u1) given as the
 * 96 hash_to_field bytes; throws when the sum is the identity (no u-coordinate).
 */
export function uOfSumFromFieldBytes(bytes96: Uint8Array): Uint8Array {
  const u0 = BigInt(`0x${Buffer.from(bytes96.subarray(0, 48)).toString('hex')}`) % P;
  const u1 = BigInt(`0x${Buffer.from(bytes96.subarray(48, 96)).toString('hex')}`) % P;
  const q = add(mapToCurve(u0), mapToCurve(u1));
  if (q === 'identity') throw new Error('hash_to_curve: the two maps cancel (probability 2^-252)');
  return uBytes(q.x);
}
