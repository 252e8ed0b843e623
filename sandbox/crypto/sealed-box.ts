import { createRequire } from 'node:module';

/**
 * Sealed boxes (libsodium `crypto_box_seal`: X25519 + XSalsa20-Poly1305, an ephemeral sender key
 * per box) for answers that must cross the queue to one reader and nobody else: a domain seals a
 * steward's follow-up rows to a key pair the server makes for that one request, so the broker
 * (Redis keeps job data and return values) and any log hold ciphertext only.
 */
interface SodiumBox {
  crypto_box_keypair(pk: Uint8Array, sk: Uint8Array): void;
  crypto_box_seal(c: Uint8Array, m: Uint8Array, pk: Uint8Array): void;
  crypto_box_seal_open(m: Uint8Array, c: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean;
  sodium_malloc(size: number): Buffer;
  sodium_free(buf: Buffer): void;
  sodium_memzero(buf: Uint8Array): void;
  readonly crypto_box_PUBLICKEYBYTES: number;
  readonly crypto_box_SECRETKEYBYTES: number;
  readonly crypto_box_SEALBYTES: number;
}

const sodium = createRequire(import.meta.url)('sodium-native') as SodiumBox;

/** A one-request key pair; the secret key lives in libsodium secure memory until `close()`. */
export class SealKeyPair {
  readonly publicKey: Buffer;
  #secret: Buffer | undefined;

  constructor() {
    this.publicKey = Buffer.alloc(sodium.crypto_box_PUBLICKEYBYTES);
    this.#secret = sodium.sodium_malloc(sodium.crypto_box_SECRETKEYBYTES);
    sodium.crypto_box_keypair(this.publicKey, this.#secret);
  }

  /** Opens a box sealed to this key pair; undefined when it was not (or was altered). */
  open(sealed: Uint8Array): Buffer | undefined {
    if (!this.#secret) throw new Error('seal key pair closed');
    if (sealed.length < sodium.crypto_box_SEALBYTES) return undefined;
    const m = Buffer.alloc(sealed.length - sodium.crypto_box_SEALBYTES);
    return sodium.crypto_box_seal_open(m, sealed, this.publicKey, this.#secret) ? m : undefined;
  }

  close(): void {
    if (!this.#secret) return;
    sodium.sodium_memzero(this.#secret);
    sodium.sodium_free(this.#secret);
    this.#secret = undefined;
  }
}

/** Seals `message` to a public key (32 bytes). */
export function sealTo(publicKey: Uint8Array, message: Uint8Array): Buffer {
  if (publicKey.length !== sodium.crypto_box_PUBLICKEYBYTES) throw new Error('bad sealing public key');
  const c = Buffer.alloc(message.length + sodium.crypto_box_SEALBYTES);
  sodium.crypto_box_seal(c, message, publicKey);
  return c;
}
