import { randomBytes } from 'node:crypto';
import { LabError, t } from '../../errors/index.ts';
import {
  MASK_BITS, POLY_MODULUS_DEGREE, PROBE_SCALE_BITS, REFERENCE_SCALE_BITS, SLOT_COUNT, STATISTICAL_SECURITY_BITS,
} from './ckks-context.ts';
import { checkDimension } from './templates.ts';

/**
 * Slot layout, error bounds, noise flood and decision margin of one comparison job. Everything
 * here is a function of public facts (the dimension and the parameter set), never of a template.
 *
 * Layout (strided, chunked): a template of dimension d is padded with zeros to D = max(64, 2^⌈log2 d⌉)
 * and cut into k = D / 64 chunks of C = 64 components. A *group* of B = 4096 / C = 64 probes is k
 * ciphertexts: in ciphertext c, component c·C + i of probe j sits in slot i·B + j. The reference
 * holder multiplies each by its reference chunk and adds the k products (slot-aligned: the same
 * column is the same probe), then rotates by B, 2B, …, (C/2)·B and adds: that sums each column's C
 * slots cyclically, so after log2 C = 6 rotations *every* slot of probe j's column holds the whole
 * inner product — no slot holds a partial sum, which would tell the probe holder about the
 * reference. Per probe this costs D / 4096 ciphertexts and 6 / 64 rotations, whatever D.
 *
 * Errors (all bounds are on the canonical embedding, ‖·‖can = max over slots; a polynomial's
 * coefficients are averages of its slots, so ‖·‖∞ ≤ ‖·‖can):
 * - the probe holder's symmetric encryption: SEAL's error has ‖e‖∞ ≤ 21 (centred, clipped at 6σ),
 *   plus ½ of encoding rounding: ‖e_x‖can ≤ N·21.5 (rigorous: ‖·‖can ≤ ‖·‖₁);
 * - the reference plaintext p_y (the masked reference r·y at scale Δ_y): ‖p_y‖can ≤ Δ_y·2^W + N/2;
 *   the product's error ‖e_x·p_y‖can ≤ ‖e_x‖can·‖p_y‖can (the canonical embedding is a ring map);
 * - the k chunk products are added and the rotate-and-sum adds C copies of that: ≤ k·C·that = D·that;
 *   each of the log2 C key switches adds at most 2^22
 *   (SEAL's hybrid key switching with a special prime wider than the data primes: the rounding of
 *   the division by P, √(N/3)·(3 + 8√h) ≈ 2^15, dominates; a heuristic bound, checked by the tests);
 * - the re-randomising public-key encryption of zero: ≤ 2·N·21 + 21; the threshold plaintext: N/2.
 * B := the sum. It depends on the reference only through that bound, so the flood size reveals nothing.
 *
 * Flood: U with coefficients uniform in [−2^f, 2^f), f = ⌈log2 B⌉ + log2 N + λ: for any two
 * references (or masks), the pre-flood errors differ by at most 2B coefficient-wise and
 * E + U, E′ + U are at statistical distance ≤ N·2B / 2^(f+1) ≤ 2^−λ (λ = 40).
 *
 * Decision margin: the decoded value of a comparison is r·(cos − τ) + ν with
 * |ν| ≤ (flood in one slot) + (reference encoding rounding) + B / scale. The flood's slot value is a
 * sum of N bounded independent terms: by Hoeffding |Re σ_j(U)| ≤ 2^f·√(2N·ln(2/ε)) except with
 * probability ε = 2^−64 per slot. Since r ≥ 1, every comparison with |cos − τ| > margin is decided
 * as in plaintext, except with probability 2^−64 per slot.
 */
export interface ComparisonPlan {
  readonly dimension: number;
  /** D: the dimension padded to a power of two (at least C). */
  readonly blockSize: number;
  /** C: components of a probe per ciphertext. */
  readonly chunkSize: number;
  /** k = D / C: ciphertexts per group. */
  readonly ciphertextsPerGroup: number;
  /** B: probes per group (and columns per ciphertext). */
  readonly probesPerGroup: number;
  /** The rotation steps (B, 2B, …, (C/2)·B), for the Galois keys. */
  readonly rotationSteps: readonly number[];
  /** log2 of B (the pre-flood error bound). */
  readonly errorBoundBits: number;
  /** f: U is uniform in [−2^f, 2^f). */
  readonly floodBits: number;
  readonly statisticalSecurityBits: number;
  /** Comparisons with |cos − τ| above this are decided exactly as in plaintext (except with probability 2^−64). */
  readonly decisionMargin: number;
  /** Bound of |ν| on one slot (the same number as decisionMargin; kept apart for the decoder's checks). */
  readonly slotNoiseBound: number;
}

export const FLOOD_FAILURE_LOG2 = -64;
export const CHUNK_SIZE = 64;
const FRESH_ERROR = 21.5;
const KEY_SWITCH_ERROR_BITS = 22;

export function planComparison(dimension: number): ComparisonPlan {
  checkDimension(dimension);
  const N = POLY_MODULUS_DEGREE;
  const logN = Math.log2(N);
  const blockSize = Math.max(CHUNK_SIZE, 2 ** Math.ceil(Math.log2(dimension)));
  const probesPerGroup = SLOT_COUNT / CHUNK_SIZE;
  const rotationSteps: number[] = [];
  for (let s = probesPerGroup; s < SLOT_COUNT; s *= 2) rotationSteps.push(s);
  const refPlain = 2 ** (REFERENCE_SCALE_BITS + MASK_BITS) + N / 2;
  const bound = blockSize * N * FRESH_ERROR * refPlain + rotationSteps.length * 2 ** KEY_SWITCH_ERROR_BITS + 2 * N * 21 + 21 + N / 2;
  const errorBoundBits = Math.ceil(Math.log2(bound));
  const lambda = STATISTICAL_SECURITY_BITS;
  const floodBits = errorBoundBits + logN + lambda;
  const scaleBits = PROBE_SCALE_BITS + REFERENCE_SCALE_BITS;
  const hoeffding = Math.sqrt(2 * N * Math.log(2) * (1 - FLOOD_FAILURE_LOG2));
  const floodSlot = 2 ** (floodBits - scaleBits) * hoeffding;
  // Reference rounding at scale Δ_y: ≤ N/2 / Δ_y per slot, times ‖x‖₁ ≤ √D; the probe's at Δ_x likewise.
  const rounding = Math.sqrt(blockSize) * (N / 2) * (2 ** -REFERENCE_SCALE_BITS + 2 ** -PROBE_SCALE_BITS);
  const margin = floodSlot + rounding + 2 ** (errorBoundBits - scaleBits);
  // Room: message ≤ scale·2^W·2, flood 2^f and B must stay below q/4 (checked against the context's q in the holders).
  return {
    dimension, blockSize, chunkSize: CHUNK_SIZE, ciphertextsPerGroup: blockSize / CHUNK_SIZE, probesPerGroup, rotationSteps, errorBoundBits, floodBits, statisticalSecurityBits: lambda,
    decisionMargin: margin, slotNoiseBound: margin,
  };
}

/** Refuses a plan whose values or flood would not fit below q/4 (cannot happen with the lab's set; kept as a guard). */
export function checkRoom(plan: ComparisonPlan, dataModulus: bigint): void {
  const scaleBits = PROBE_SCALE_BITS + REFERENCE_SCALE_BITS;
  const need = (1n << BigInt(scaleBits + MASK_BITS + 1)) + (1n << BigInt(plan.floodBits)) + (1n << BigInt(plan.errorBoundBits));
  if (4n * need >= dataModulus) {
    throw new LabError('LAB-E191', { detail: t('该维度的比对无法在此参数下安全解密', 'comparisons of this dimension cannot be flooded and still decrypt'), field: 'dimension' });
  }
}

/** The per-comparison mask: log-uniform in [1, 2^W), from the OS CSPRNG. */
export function sampleMasks(count: number): Float64Array {
  const buf = randomBytes(4 * count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = 2 ** (MASK_BITS * (buf.readUInt32LE(4 * i) / 2 ** 32));
  buf.fill(0);
  return out;
}

/** N coefficients uniform in [−2^f, 2^f), from the OS CSPRNG. */
export function sampleFlood(floodBits: number): bigint[] {
  const N = POLY_MODULUS_DEGREE;
  const bytesPer = Math.ceil((floodBits + 1) / 8);
  const buf = randomBytes(bytesPer * N);
  const mask = (1n << BigInt(floodBits + 1)) - 1n;
  const offset = 1n << BigInt(floodBits);
  const out = new Array<bigint>(N);
  for (let k = 0; k < N; k++) out[k] = (BigInt('0x' + buf.toString('hex', k * bytesPer, (k + 1) * bytesPer)) & mask) - offset;
  buf.fill(0);
  return out;
}

/**
 * Where c0 lies in SEAL 4.x's uncompressed serialisation of a size-2 ciphertext out of NTT form:
 * header (16), parms_id (32), is_ntt_form (1), size (8), degree (8), coeff modulus size (8),
 * scale (f64, 8), correction factor (8), then the coefficients with their own header (16) and
 * count (8), polynomial-major then prime-major. Checked field by field.
 */
export function c0Offset(bytes: Uint8Array, primeCount: number, scaleBits: number): number {
  const N = POLY_MODULUS_DEGREE;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (what: string): never => {
    throw new LabError('LAB-E192', { detail: t(`密文序列化格式与预期不符（${what}）`, `the ciphertext's serialisation is not as expected (${what})`) });
  };
  const header = (at: number, size: number, what: string): void => {
    if (v.getUint16(at, true) !== 0xa15e || v.getUint8(at + 2) !== 16) fail(`${what} magic`);
    if (v.getUint8(at + 3) !== 4) fail(`${what} version`);
    if (v.getUint8(at + 5) !== 0) fail(`${what} compression`);
    if (v.getBigUint64(at + 8, true) !== BigInt(size)) fail(`${what} size`);
  };
  const data = 113;
  const coeffs = 2 * primeCount * N;
  if (bytes.byteLength !== data + 8 * coeffs) fail('length');
  header(0, bytes.byteLength, 'header');
  if (v.getUint8(48) !== 0) fail('NTT form');
  if (v.getBigUint64(49, true) !== 2n) fail('ciphertext size');
  if (v.getBigUint64(57, true) !== BigInt(N)) fail('degree');
  if (v.getBigUint64(65, true) !== BigInt(primeCount)) fail('coeff modulus size');
  if (v.getFloat64(73, true) !== 2 ** scaleBits) fail('scale');
  header(89, bytes.byteLength - 89, 'data header');
  if (v.getBigUint64(105, true) !== BigInt(coeffs)) fail('coefficient count');
  return data;
}

/** Adds the integer polynomial u to c0 of a serialised coefficient-form ciphertext, in place. */
export function addToC0(bytes: Uint8Array, u: readonly bigint[], primes: readonly bigint[], scaleBits: number): void {
  const N = u.length;
  const at = c0Offset(bytes, primes.length, scaleBits);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  primes.forEach((q, j) => {
    for (let k = 0; k < N; k++) {
      const pos = at + 8 * (j * N + k);
      v.setBigUint64(pos, (v.getBigUint64(pos, true) + (u[k]! % q) + q) % q, true);
    }
  });
}
