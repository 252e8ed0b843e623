import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import { bfvContext, type BfvContext } from './bfv-context.ts';
import { addToC0, c0Offset, planFlood, sampleFlood, STATISTICAL_SECURITY_BITS } from './noise-flood.ts';

let ctx: BfvContext;
let keys: KeyGenerator;
let ct: CipherText;

beforeAll(async () => {
  ctx = await bfvContext();
  keys = ctx.seal.KeyGenerator(ctx.context);
  const pk = keys.createPublicKey();
  const encryptor = ctx.seal.Encryptor(ctx.context, pk);
  ct = encryptor.encryptZero()!;
  encryptor.delete();
  pk.delete();
});
afterAll(() => { ct.delete(); keys.delete(); });

describe('noise flooding: the bound', () => {
  it('the parameter set: q ≈ 2^180 over three 60-bit primes, t a 45-bit prime', () => {
    expect(ctx.dataPrimes).toHaveLength(3);
    expect(ctx.dataPrimes.every((p) => p.toString(2).length === 60)).toBe(true);
    expect(ctx.plainModulus.toString(2).length).toBe(45);
    expect(ctx.plainModulus % 16384n).toBe(1n); // batching: t ≡ 1 mod 2N
  });

  it('for 1 M rows × 8 groups (1467 ciphertexts): f = 126 bits, statistical distance < 2^−40, decryption keeps 8 bits', () => {
    const plan = planFlood({ polyModulusDegree: 8192, plainModulus: ctx.plainModulus, dataModulus: ctx.dataModulus, ciphertextCount: 1467 });
    expect(plan.statisticalSecurityBits).toBe(STATISTICAL_SECURITY_BITS);
    expect(plan.selectionErrorBound).toBe(1467n * 8192n * ctx.plainModulus * 22n);
    expect(plan.floodBits).toBe(126);
    // N · 2B / 2^(f+1) ≤ 2^−λ
    expect(8192n * 2n * plan.selectionErrorBound * 2n ** 40n).toBeLessThanOrEqual(2n ** BigInt(plan.floodBits + 1));
    expect(plan.marginBits).toBeGreaterThan(7);
    expect(plan.marginBits).toBeLessThan(9);
  });

  it('refuses a sum too large to flood and still decrypt (LAB-E117)', () => {
    expect(() => planFlood({ polyModulusDegree: 8192, plainModulus: ctx.plainModulus, dataModulus: ctx.dataModulus, ciphertextCount: 2 ** 20 }))
      .toThrow(expect.objectContaining({ code: 'LAB-E117' }));
    expect(() => planFlood({ polyModulusDegree: 8192, plainModulus: ctx.plainModulus, dataModulus: ctx.dataModulus, ciphertextCount: 1467, statisticalSecurityBits: 60 }))
      .toThrow(expect.objectContaining({ code: 'LAB-E117' }));
  });
});

describe('noise flooding: sampling and applying', () => {
  it('samples N coefficients in [−2^f, 2^f), both signs, using the top bits', () => {
    const f = 126;
    const u = sampleFlood(8192, f);
    expect(u).toHaveLength(8192);
    const lo = -(2n ** BigInt(f));
    const hi = 2n ** BigInt(f);
    expect(u.every((x) => x >= lo && x < hi)).toBe(true);
    const negative = u.filter((x) => x < 0n).length;
    expect(negative).toBeGreaterThan(3800);
    expect(negative).toBeLessThan(4400);
    // about half have |x| ≥ 2^(f−1)
    const large = u.filter((x) => (x < 0n ? -x : x) >= 2n ** BigInt(f - 1)).length;
    expect(large).toBeGreaterThan(3800);
    expect(large).toBeLessThan(4400);
  });

  it('adds to c0 only, prime by prime, and adding −u restores the ciphertext', () => {
    const bytes = ct.saveArray(ctx.seal.ComprModeType.none);
    const before = bytes.slice();
    const u = sampleFlood(8192, 100);
    addToC0(bytes, u, ctx.dataPrimes);
    const at = c0Offset(bytes, 8192, 3);
    const c0End = at + 8 * 3 * 8192;
    expect(Buffer.compare(bytes.subarray(at, c0End), before.subarray(at, c0End))).not.toBe(0);
    expect(Buffer.compare(bytes.subarray(c0End), before.subarray(c0End))).toBe(0); // c1 untouched
    expect(Buffer.compare(bytes.subarray(0, at), before.subarray(0, at))).toBe(0);
    // every coefficient still reduced: SEAL loads it
    const loaded = ctx.seal.CipherText();
    loaded.loadArray(ctx.context, bytes);
    loaded.delete();
    addToC0(bytes, u.map((x) => -x), ctx.dataPrimes);
    expect(Buffer.compare(bytes, before)).toBe(0);
  });

  it('refuses bytes that are not an uncompressed size-2 ciphertext of this level', () => {
    const bytes = ct.saveArray(ctx.seal.ComprModeType.none);
    expect(() => c0Offset(bytes, 8192, 4)).toThrow(expect.objectContaining({ code: 'LAB-E110' }));
    const ntt = bytes.slice();
    ntt[48] = 1;
    expect(() => c0Offset(ntt, 8192, 3)).toThrow(expect.objectContaining({ code: 'LAB-E110' }));
    const compressed = ct.saveArray(ctx.seal.ComprModeType.zstd);
    expect(() => c0Offset(compressed, 8192, 3)).toThrow(expect.objectContaining({ code: 'LAB-E110' }));
  });
});
