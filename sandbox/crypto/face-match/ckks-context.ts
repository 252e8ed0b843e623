import { createRequire } from 'node:module';
import type { CKKSEncoder } from 'node-seal/implementation/ckks-encoder.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { Evaluator } from 'node-seal/implementation/evaluator.js';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import { LabError, t } from '../../errors/index.ts';

/**
 * The CKKS parameter set of the encrypted face comparison (Cheon, Kim, Kim & Song 2017, as
 * implemented by Microsoft SEAL 4.1 through node-seal 6.0.3).
 *
 * - N = 8192: 4096 complex slots (we use the real parts).
 * - coeff modulus 53 + 53 + 52 + 60 = 218 bits: the most the HomomorphicEncryption.org standard
 *   (Albrecht et al. 2018, uniform ternary secret) allows at N = 8192 for 128-bit classical
 *   security; SEAL checks it (`SecurityLevel.tc128`). The last prime (60 bits) is the special
 *   prime of key switching (the rotations); ciphertexts live modulo the first three, q ≈ 2^158.
 * - No rescaling: one plaintext multiplication takes the scale from Δ_x = 2^110 (the probe) to
 *   Δ_x·Δ_y = 2^138 (Δ_y = 2^28, the reference), and q keeps the room above it that the
 *   multiplicative mask (up to 2^12) and the noise flood need (comparison-plan.ts).
 */
export const POLY_MODULUS_DEGREE = 8192;
export const SLOT_COUNT = POLY_MODULUS_DEGREE / 2;
export const COEFF_MODULUS_BITS: readonly number[] = [53, 53, 52, 60];
export const PROBE_SCALE_BITS = 110;
export const REFERENCE_SCALE_BITS = 28;
/** The per-comparison mask r is log-uniform in [1, 2^MASK_BITS). */
export const MASK_BITS = 12;
export const SECURITY_BITS = 128;
export const STATISTICAL_SECURITY_BITS = 40;

/** The parameters as they travel in the setup message (no key material). */
export interface CkksParams {
  readonly scheme: 'ckks';
  readonly polyModulusDegree: number;
  readonly coeffModulusBits: readonly number[];
  readonly probeScaleBits: number;
  readonly referenceScaleBits: number;
  readonly maskBits: number;
  readonly securityBits: number;
  readonly statisticalSecurityBits: number;
}

export const CKKS_PARAMS: CkksParams = {
  scheme: 'ckks', polyModulusDegree: POLY_MODULUS_DEGREE, coeffModulusBits: COEFF_MODULUS_BITS,
  probeScaleBits: PROBE_SCALE_BITS, referenceScaleBits: REFERENCE_SCALE_BITS, maskBits: MASK_BITS,
  securityBits: SECURITY_BITS, statisticalSecurityBits: STATISTICAL_SECURITY_BITS,
};

/** The public objects of the context, shared per process (they hold no key). */
export interface CkksContext {
  readonly seal: SEALLibrary;
  readonly context: Context;
  readonly encoder: CKKSEncoder;
  readonly evaluator: Evaluator;
  /** The primes of the ciphertext level (special prime excluded), in SEAL's order. */
  readonly dataPrimes: readonly bigint[];
  readonly dataModulus: bigint;
}

type SealFactory = () => Promise<SEALLibrary>;
let loading: Promise<CkksContext> | undefined;

/** Runs a SEAL call and turns its exception (a plain Error from WASM) into a LabError. */
export function sealCall<T>(code: 'LAB-E190' | 'LAB-E192' | 'LAB-E197', what: { zh: string; en: string }, f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (cause instanceof LabError) throw cause;
    throw new LabError(code, { detail: what, cause });
  }
}

/**
 * Loads SEAL (its WASM build that refuses transparent ciphertexts) and makes the context, once per
 * process.
 */
export function ckksContext(): Promise<CkksContext> {
  loading ??= create().catch((cause: unknown) => {
    loading = undefined;
    if (cause instanceof LabError) throw cause;
    throw new LabError('LAB-E190', { detail: t('无法加载 SEAL 同态加密库', 'could not load the SEAL library'), cause });
  });
  return loading;
}

async function create(): Promise<CkksContext> {
  const require = createRequire(import.meta.url);
  const factory = require('node-seal') as unknown;
  if (typeof factory !== 'function') throw new Error('node-seal did not export its loader');
  const seal = await (factory as SealFactory)();
  const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
  let context: Context;
  try {
    parms.setPolyModulusDegree(POLY_MODULUS_DEGREE);
    parms.setCoeffModulus(seal.CoeffModulus.Create(POLY_MODULUS_DEGREE, Int32Array.from(COEFF_MODULUS_BITS)));
    context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  } finally {
    parms.delete();
  }
  if (!context.parametersSet()) {
    context.delete();
    throw new LabError('LAB-E190', { detail: t('CKKS 参数达不到 128 位安全', 'the CKKS parameters do not reach 128-bit security') });
  }
  const dataPrimes = [...context.firstContextData.parms.coeffModulus];
  return {
    seal, context,
    encoder: seal.CKKSEncoder(context),
    evaluator: seal.Evaluator(context),
    dataPrimes,
    dataModulus: dataPrimes.reduce((a, b) => a * b, 1n),
  };
}

/** Accepts a peer's parameters only when they are exactly the lab's set (LAB-E195). */
export function checkPeerParams(p: CkksParams): void {
  const ok = p.scheme === 'ckks' && p.polyModulusDegree === POLY_MODULUS_DEGREE
    && p.coeffModulusBits.length === COEFF_MODULUS_BITS.length && p.coeffModulusBits.every((b, i) => b === COEFF_MODULUS_BITS[i])
    && p.probeScaleBits === PROBE_SCALE_BITS && p.referenceScaleBits === REFERENCE_SCALE_BITS && p.maskBits === MASK_BITS
    && p.securityBits === SECURITY_BITS && p.statisticalSecurityBits === STATISTICAL_SECURITY_BITS;
  if (!ok) throw new LabError('LAB-E195', { detail: t('对方发送的 CKKS 参数不是本实验室的参数集', 'the peer sent CKKS parameters outside the lab\'s set') });
}
