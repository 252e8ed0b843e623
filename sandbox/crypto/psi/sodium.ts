import { createRequire } from 'node:module';

/**
 * The part of sodium-native (libsodium) the PSI uses, typed here: the package ships no types, and
 * a typed view local to this folder keeps an ambient module declaration out of the project.
 * Every function throws on a libsodium failure (e.g. `crypto_scalarmult` on a low-order point).
 */
export interface Sodium {
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  crypto_hash_sha512(out: Uint8Array, input: Uint8Array): void;
  crypto_hash_sha256(out: Uint8Array, input: Uint8Array): void;
  crypto_generichash(out: Uint8Array, input: Uint8Array, key?: Uint8Array): void;
  randombytes_buf(buf: Uint8Array): void;
  sodium_malloc(size: number): Buffer;
  sodium_free(buf: Buffer): void;
  sodium_memzero(buf: Uint8Array): void;
  sodium_is_zero(buf: Uint8Array, length?: number): boolean;
  readonly crypto_scalarmult_BYTES: number;
  readonly crypto_scalarmult_SCALARBYTES: number;
}

export const sodium = createRequire(import.meta.url)('sodium-native') as Sodium;

/** 32 random bytes in libsodium secure memory (guard pages, mlock'd, wiped when freed). */
export function secureRandomKey(): Buffer {
  const key = sodium.sodium_malloc(32);
  sodium.randombytes_buf(key);
  return key;
}

/** Zero a secret, check it reads back as zeros, then release it (a freed secure buffer is detached). */
export function wipeSecure(buf: Buffer): boolean {
  if (buf.byteLength === 0) return true; // already released
  sodium.sodium_memzero(buf);
  const zero = sodium.sodium_is_zero(buf);
  sodium.sodium_free(buf);
  return zero;
}
