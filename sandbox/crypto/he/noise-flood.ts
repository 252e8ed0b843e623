import { randomBytes } from 'node:crypto';
import { LabError, t } from '../../errors/index.ts';

/**
 * Noise flooding of the summing party's result.
 *
 * Why: the key holder decrypts with its secret key s and so sees the whole error
 * E = c0 + c1·s − (q/t)·M (mod q), not only the message M. The key holder made every input
 * ciphertext and knows each one's error e_c; after the summing party's selection the error is
 * Σ_c p_c·e_c, with p_c the (secret) 0/1 selection mask of ciphertext c as a plaintext polynomial.
 * Without flooding, the key holder could test candidate masks against E and learn which rows
 * matched. So the summing party adds a fresh uniform integer polynomial U, coefficients in
 * [−2^f, 2^f), to c0: E becomes Σ p_c·e_c + U (+ the small, mask-independent error of its
 * re-randomising encryption of zero).
 *
 * Bound (every quantity coefficient-wise, ‖·‖ = max norm, errors measured against the exact
 * scale q/t):
 * - a fresh symmetric BFV encryption in SEAL has ‖e‖ ≤ 21 (centred binomial noise, or clipped
 *   Gaussian at 6σ = 19.2) plus ≤ 1/2 from rounding q·m/t: ‖e_c‖ ≤ 21.5 < 22;
 * - ‖p_c‖ ≤ t/2 (SEAL lifts plaintexts centred); ‖p_c·e_c‖ ≤ N·(t/2)·22 < N·t·22 (negacyclic product);
 * - over K ciphertexts: ‖Σ p_c·e_c‖ ≤ B := K·N·t·22. B depends only on public sizes, never on the
 *   mask (so the flood size itself reveals nothing).
 *
 * With f = bitLength(B) + log2 N + λ, for any two selections the errors E, E′ (‖E − E′‖ ≤ 2B)
 * give E + U and E′ + U at statistical distance ≤ N·2B / 2^(f+1) < 2^−λ (summed over the N
 * coefficients). λ = 40, the statistical security parameter of Ion et al. 2020.
 *
 * Decryption stays correct while ‖E‖ < q/(2t): we require 2t·(B + 2^f + 2N) < q/2 (one bit of
 * margin; 2N bounds the error of the encryption of zero, ≈ ‖s‖₁/2 after SEAL's modulus switch,
 * and the rounding of the added mask plaintext) and refuse the job (LAB-E117) otherwise.
 */
export const STATISTICAL_SECURITY_BITS = 40;
/** Upper bound of a fresh symmetric encryption's error plus rounding (see above). */
const FRESH_ERROR_BOUND = 22n;

export interface FloodPlan {
  readonly statisticalSecurityBits: number;
  /** B: bound of the selection-dependent error. */
  readonly selectionErrorBound: bigint;
  /** f: U is uniform in [−2^f, 2^f). */
  readonly floodBits: number;
  /** log2 of q / (2t) minus log2 of the worst total error: decryption has this many bits to spare. */
  readonly marginBits: number;
}

const bitLength = (x: bigint): number => (x <= 0n ? 0 : x.toString(2).length);
const log2 = (x: bigint): number => {
  const b = bitLength(x);
  if (b <= 52) return Math.log2(Number(x));
  return b - 52 + Math.log2(Number(x >> BigInt(b - 52)));
};

export function planFlood(args: {
  readonly polyModulusDegree: number;
  readonly plainModulus: bigint;
  readonly dataModulus: bigint;
  readonly ciphertextCount: number;
  readonly statisticalSecurityBits?: number;
}): FloodPlan {
  const lambda = args.statisticalSecurityBits ?? STATISTICAL_SECURITY_BITS;
  const N = BigInt(args.polyModulusDegree);
  const logN = Math.log2(args.polyModulusDegree);
  if (!Number.isInteger(logN)) throw new Error('the ring degree must be a power of two');
  const K = BigInt(Math.max(1, args.ciphertextCount));
  const selectionErrorBound = K * N * args.plainModulus * FRESH_ERROR_BOUND;
  const floodBits = bitLength(selectionErrorBound) + logN + lambda;
  const worst = selectionErrorBound + (1n << BigInt(floodBits)) + 2n * N;
  // Correct decryption needs ‖E‖ < q/(2t); keep one more bit: 4t·worst < q.
  const marginBits = log2(args.dataModulus) - log2(2n * args.plainModulus) - log2(worst);
  if (4n * args.plainModulus * worst >= args.dataModulus) {
    throw new LabError('LAB-E117', {
      detail: t(
        `${args.ciphertextCount} 个密文的求和无法在保持统计安全参数 ${lambda} 的同时正确解密`,
        `a sum over ${args.ciphertextCount} ciphertexts cannot be flooded to statistical security ${lambda} and still decrypt`,
      ),
      hint: t('把数据按哈希分桶，每桶单独求和', 'split the rows into hash buckets and sum each bucket on its own'),
    });
  }
  return { statisticalSecurityBits: lambda, selectionErrorBound, floodBits, marginBits };
}

/** N coefficients uniform in [−2^f, 2^f), from the operating system's CSPRNG. */
export function sampleFlood(polyModulusDegree: number, floodBits: number): bigint[] {
  const bytesPer = Math.ceil((floodBits + 1) / 8);
  const buf = randomBytes(bytesPer * polyModulusDegree);
  const mask = (1n << BigInt(floodBits + 1)) - 1n;
  const offset = 1n << BigInt(floodBits);
  const out = new Array<bigint>(polyModulusDegree);
  for (let k = 0; k < polyModulusDegree; k++) {
    const x = BigInt('0x' + buf.toString('hex', k * bytesPer, (k + 1) * bytesPer)) & mask;
    out[k] = x - offset;
  }
  buf.fill(0);
  return out;
}

/**
 * Where c0 lies in SEAL 4.x's uncompressed serialisation of a BFV ciphertext of size 2:
 * SEALHeader (16 bytes: magic 0xA15E, header size 16, version, compression mode, size), parms_id
 * (32), is_ntt_form (1), size (8), poly modulus degree (8), coeff modulus size (8), scale (8),
 * correction factor (8), then the coefficient array as its own SEALHeader (16) + count (8) + the
 * uint64 coefficients, polynomial-major then RNS-prime-major. Checked field by field.
 */
export function c0Offset(bytes: Uint8Array, polyModulusDegree: number, primeCount: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (what: string): never => {
    throw new LabError('LAB-E110', { detail: t(`SEAL 密文序列化格式与预期不符（${what}）`, `SEAL's ciphertext serialisation is not as expected (${what})`) });
  };
  const header = (at: number, size: number, what: string): void => {
    if (v.getUint16(at, true) !== 0xa15e || v.getUint8(at + 2) !== 16) fail(`${what} magic`);
    if (v.getUint8(at + 3) !== 4) fail(`${what} version`);
    if (v.getUint8(at + 5) !== 0) fail(`${what} compression`);
    if (v.getBigUint64(at + 8, true) !== BigInt(size)) fail(`${what} size`);
  };
  const data = 113;
  const coeffs = 2 * primeCount * polyModulusDegree;
  if (bytes.byteLength !== data + 8 * coeffs) fail('length');
  header(0, bytes.byteLength, 'header');
  if (v.getUint8(48) !== 0) fail('NTT form');
  if (v.getBigUint64(49, true) !== 2n) fail('ciphertext size');
  if (v.getBigUint64(57, true) !== BigInt(polyModulusDegree)) fail('degree');
  if (v.getBigUint64(65, true) !== BigInt(primeCount)) fail('coeff modulus size');
  header(89, bytes.byteLength - 89, 'data header');
  if (v.getBigUint64(105, true) !== BigInt(coeffs)) fail('coefficient count');
  return data;
}

/** Adds the integer polynomial u to c0 of a serialised ciphertext, in place, prime by prime. */
export function addToC0(bytes: Uint8Array, u: readonly bigint[], primes: readonly bigint[]): void {
  const N = u.length;
  const at = c0Offset(bytes, N, primes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  primes.forEach((q, j) => {
    for (let k = 0; k < N; k++) {
      const pos = at + 8 * (j * N + k);
      const r = (v.getBigUint64(pos, true) + (u[k]! % q) + q) % q;
      v.setBigUint64(pos, r, true);
    }
  });
}
