import { LabError, t } from '../../errors/index.ts';
import { DEFAULT_SUITE, packItems, type HashSuite, type PackedItems } from './hash-to-curve.ts';
import { PsiPool } from './psi-pool.ts';
import { secureRandomKey, wipeSecure } from './sodium.ts';

/** An item to intersect: text (compared as UTF-8 bytes) or bytes. Both domains must encode alike. */
export type PsiItem = string | Uint8Array;

/** What close() checked: the party's key and every thread's copy read back as zeros before release. */
export interface PsiWipeReport {
  readonly keyZeroed: boolean;
  readonly threadCopiesZeroed: boolean;
}

/**
 * One side's key for one job (or one bucket of a job) and the operations that use it. The key is
 * 32 random bytes made here, in libsodium secure memory, copied to the pool's threads for the
 * scalar multiplications, and wiped everywhere by close(). It never leaves the process.
 *
 *   blind(items)    = X25519(k, H(item)) per item, H = RFC 9380 hash-to-curve (suite NU or RO)
 *   reblind(points) = X25519(k, point) per point, after checking every point (LAB-E102)
 */
export class PsiParty {
  #key: Buffer;
  #keyId: number;
  #closed = false;

  private constructor(readonly pool: PsiPool, readonly suite: HashSuite, key: Buffer, keyId: number) {
    this.#key = key;
    this.#keyId = keyId;
  }

  static async create(options: { pool?: PsiPool; suite?: HashSuite } = {}): Promise<PsiParty> {
    const pool = options.pool ?? PsiPool.shared();
    const key = secureRandomKey();
    try {
      const keyId = await pool.registerKey(key);
      return new PsiParty(pool, options.suite ?? DEFAULT_SUITE, key, keyId);
    } catch (e) {
      wipeSecure(key);
      throw e;
    }
  }

  get closed(): boolean { return this.#closed; }

  private open(): number {
    if (this.#closed) throw new LabError('LAB-E105', { detail: t('该 PSI 会话已关闭，密钥已销毁', 'the PSI session is closed and its key wiped') });
    return this.#keyId;
  }

  blind(items: readonly PsiItem[] | PackedItems): Promise<Uint8Array> {
    const keyId = this.open();
    return this.pool.blind(keyId, this.suite, Array.isArray(items) ? packItems(items as readonly PsiItem[]) : (items as PackedItems));
  }

  reblind(points: Uint8Array): Promise<Uint8Array> {
    return this.pool.reblind(this.open(), points);
  }

  check(points: Uint8Array): Promise<void> {
    this.open();
    return this.pool.check(points);
  }

  /** Wipes the key here and on every thread. Idempotent: a second call reports the first call's wipe as done. */
  async close(): Promise<PsiWipeReport> {
    if (this.#closed) return { keyZeroed: true, threadCopiesZeroed: true };
    this.#closed = true;
    const keyZeroed = wipeSecure(this.#key);
    const threadCopiesZeroed = await this.pool.dropKey(this.#keyId);
    return { keyZeroed, threadCopiesZeroed };
  }
}
