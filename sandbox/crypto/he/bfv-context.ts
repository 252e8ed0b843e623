import type { BatchEncoder } from 'node-seal/implementation/batch-encoder.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { Evaluator } from 'node-seal/implementation/evaluator.js';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import { LabError, t } from '../../errors/index.ts';
import { loadSeal } from './seal-module.ts';

/**
 * The BFV parameter set of the lab (Fan–Vercauteren 2012, as implemented by SEAL 4.1).
 *
 * - poly modulus degree N = 8192: 8192 SIMD slots per ciphertext.
 * - coeff modulus: four primes of 60 + 60 + 60 + 38 = 218 bits. 218 bits is the largest total the
 *   HomomorphicEncryption.org standard (Albrecht et al. 2018, table for uniform ternary secrets)
 *   allows at N = 8192 for 128-bit classical security; SEAL checks it (`SecurityLevel.tc128`) and
 *   refuses the context otherwise. SEAL keeps the last prime as the "special" prime, used only for
 *   key switching and public-key encryption, so ciphertexts live modulo the first three: q ≈ 2^180.
 *   We never key-switch (no relinearisation, no rotations), so the special prime can be small and
 *   the data level gets 180 bits — the room that noise flooding needs (noise-flood.ts).
 * - plain modulus t: a prime ≡ 1 (mod 2N) (so that batching works) of `plainModulusBits` bits,
 *   45 by default; a slot holds values modulo t. Chosen from public job facts only.
 */
export const POLY_MODULUS_DEGREE = 8192;
export const COEFF_MODULUS_BITS: readonly number[] = [60, 60, 60, 38];
export const DEFAULT_PLAIN_MODULUS_BITS = 45;
export const PLAIN_MODULUS_BITS_MIN = 20;
export const PLAIN_MODULUS_BITS_MAX = 50;
export const SECURITY_BITS = 128;

/** The parameters as they travel in messages (no key material). */
export interface BfvParams {
  readonly scheme: 'bfv';
  readonly polyModulusDegree: number;
  readonly coeffModulusBits: readonly number[];
  readonly plainModulusBits: number;
  /** Decimal string of t (a bigint). */
  readonly plainModulus: string;
  readonly securityBits: number;
}

/** A SEAL context with the objects that hold no secret (encoder, evaluator), shared per process. */
export interface BfvContext {
  readonly seal: SEALLibrary;
  readonly params: BfvParams;
  readonly context: Context;
  readonly encoder: BatchEncoder;
  readonly evaluator: Evaluator;
  readonly slotCount: number;
  /** t */
  readonly plainModulus: bigint;
  /** The primes of the ciphertext level (the special prime excluded), in SEAL's order. */
  readonly dataPrimes: readonly bigint[];
  /** q = the product of dataPrimes */
  readonly dataModulus: bigint;
}

const contexts = new Map<number, Promise<BfvContext>>();

function checkPlainBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < PLAIN_MODULUS_BITS_MIN || bits > PLAIN_MODULUS_BITS_MAX) {
    throw new LabError('LAB-E111', {
      detail: t(`明文模数位数须在 ${PLAIN_MODULUS_BITS_MIN}–${PLAIN_MODULUS_BITS_MAX} 之间`, `the plain modulus must have ${PLAIN_MODULUS_BITS_MIN}–${PLAIN_MODULUS_BITS_MAX} bits`),
      field: 'plainModulusBits',
    });
  }
}

/**
 * The context for a plain modulus size, created once per process (contexts hold no secret: they
 * are the public parameters with their precomputed tables). Keys are made per job elsewhere.
 */
export function bfvContext(plainModulusBits: number = DEFAULT_PLAIN_MODULUS_BITS): Promise<BfvContext> {
  checkPlainBits(plainModulusBits);
  let p = contexts.get(plainModulusBits);
  if (!p) {
    p = createContext(plainModulusBits);
    p.catch(() => contexts.delete(plainModulusBits));
    contexts.set(plainModulusBits, p);
  }
  return p;
}

async function createContext(plainModulusBits: number): Promise<BfvContext> {
  const seal = await loadSeal();
  const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
  let context: Context;
  try {
    parms.setPolyModulusDegree(POLY_MODULUS_DEGREE);
    parms.setCoeffModulus(seal.CoeffModulus.Create(POLY_MODULUS_DEGREE, Int32Array.from(COEFF_MODULUS_BITS)));
    parms.setPlainModulus(seal.PlainModulus.Batching(POLY_MODULUS_DEGREE, plainModulusBits));
    context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  } catch (cause) {
    throw new LabError('LAB-E111', { detail: t('SEAL 拒绝了该参数', 'SEAL refused the parameters'), cause });
  } finally {
    parms.delete();
  }
  if (!context.parametersSet()) {
    context.delete();
    throw new LabError('LAB-E111', { detail: t('参数达不到 128 位安全', 'the parameters do not reach 128-bit security') });
  }
  const data = context.firstContextData;
  const dataParms = data.parms;
  const dataPrimes = [...dataParms.coeffModulus];
  const plainModulus = dataParms.plainModulus.value;
  const encoder = seal.BatchEncoder(context);
  const params: BfvParams = {
    scheme: 'bfv',
    polyModulusDegree: POLY_MODULUS_DEGREE,
    coeffModulusBits: COEFF_MODULUS_BITS,
    plainModulusBits,
    plainModulus: plainModulus.toString(),
    securityBits: SECURITY_BITS,
  };
  return {
    seal,
    params,
    context,
    encoder,
    evaluator: seal.Evaluator(context),
    slotCount: encoder.slotCount,
    plainModulus,
    dataPrimes,
    dataModulus: dataPrimes.reduce((a, b) => a * b, 1n),
  };
}

/**
 * The context for parameters received from the other party: only our own parameter set is
 * accepted (same N, same coeff modulus, a plain modulus size in range and t equal to ours).
 */
export async function bfvContextFor(params: BfvParams): Promise<BfvContext> {
  const ok = params.scheme === 'bfv' && params.polyModulusDegree === POLY_MODULUS_DEGREE
    && params.securityBits === SECURITY_BITS
    && params.coeffModulusBits.length === COEFF_MODULUS_BITS.length
    && params.coeffModulusBits.every((b, i) => b === COEFF_MODULUS_BITS[i])
    && Number.isInteger(params.plainModulusBits)
    && params.plainModulusBits >= PLAIN_MODULUS_BITS_MIN && params.plainModulusBits <= PLAIN_MODULUS_BITS_MAX;
  if (!ok) throw new LabError('LAB-E114', { detail: t('对方发送的加密参数不是本实验室的参数集', 'the peer sent encryption parameters outside the lab\'s parameter set') });
  const ctx = await bfvContext(params.plainModulusBits);
  if (ctx.params.plainModulus !== params.plainModulus) {
    throw new LabError('LAB-E114', { detail: t('明文模数与参数集不符', 'the plain modulus does not match the parameter set') });
  }
  return ctx;
}
