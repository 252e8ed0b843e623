import { createCipheriv, createHash } from 'node:crypto';
import { Rng, type ByteSource } from './rng.ts';

/**
 * Deterministic randomness FOR TESTS ONLY: the AES-256-CTR keystream (node:crypto) under the key
 * SHA-256("data-lab dp test rng" ‖ seed), so a distribution test draws the same values every run.
 * Not exported from the package's index; `Rng.forTests` refuses outside a test run, and the
 * mechanisms refuse a non-cryptographic generator outside tests (LAB-E123).
 */
export function seededTestRng(seed: string): Rng {
  return Rng.forTests(aesCtrSource(seed));
}

export function aesCtrSource(seed: string): ByteSource {
  const key = createHash('sha256').update('data-lab dp test rng\0').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return {
    fill(target) {
      target.set(cipher.update(Buffer.alloc(target.length)));
    },
  };
}

/** A source that replays `bytes` (then repeats them): for tests that script the exact draws. */
export function scriptedTestRng(bytes: readonly number[]): Rng {
  let i = 0;
  return Rng.forTests({
    fill(target) {
      for (let j = 0; j < target.length; j++) { target[j] = bytes[i % bytes.length] ?? 0; i++; }
    },
  });
}
