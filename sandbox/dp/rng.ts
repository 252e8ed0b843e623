import { randomFillSync } from 'node:crypto';
import { LabError, t } from '../errors/index.ts';
import { bitLength, type Rational } from './rational.ts';

/**
 * Randomness for the noise samplers. All of it comes from one `ByteSource`:
 *
 * - in production the operating system's CSPRNG through `node:crypto` (`randomFillSync`, the same
 *   generator as `randomBytes`/`randomInt`), the only source `Rng.crypto()` ever uses;
 * - in tests a deterministic stream (test-rng.ts: AES-256-CTR keyed by a seed), so distribution
 *   tests are reproducible. Such an `Rng` can only be built while a test runner runs (`isTestRun`),
 *   and the mechanisms refuse one outside tests (LAB-E123).
 *
 * Every draw is exact: uniform integers by rejection (never `% n`, which favours small values when
 * n does not divide the range), Bernoulli(num/den) as "uniform in [0, den) is below num".
 * No floating point and no `Math.random` anywhere on this path.
 */
export interface ByteSource {
  /** Fills `target` with uniformly random bytes. */
  fill(target: Uint8Array): void;
}

/** True while a test runner runs this process (Vitest sets VITEST; NODE_ENV=test for others). */
export const isTestRun = (): boolean => process.env.VITEST === 'true' || process.env.NODE_ENV === 'test';

/** Bytes fetched from the source at once: one system call per 4 KiB instead of per draw. */
const POOL_BYTES = 4096;
const TWO_32 = 2n ** 32n;

const cryptoSource: ByteSource = { fill: (target) => { randomFillSync(target); } };

export class Rng {
  private static shared: Rng | undefined;
  private readonly pool = new Uint8Array(POOL_BYTES);
  private pos = POOL_BYTES;

  private constructor(
    private readonly source: ByteSource,
    /** True only for the node:crypto generator. */
    readonly isCrypto: boolean,
  ) {}

  /** The process's cryptographic generator (node:crypto). The default of every mechanism. */
  static crypto(): Rng {
    Rng.shared ??= new Rng(cryptoSource, true);
    return Rng.shared;
  }

  /** A generator over a test source; refused outside a test run (LAB-E123). */
  static forTests(source: ByteSource): Rng {
    if (!isTestRun()) throw deterministicOutsideTests();
    return new Rng(source, false);
  }

  /** 32 uniform bits, as a number in [0, 2^32). */
  private word32(): number {
    if (this.pos + 4 > POOL_BYTES) {
      this.source.fill(this.pool);
      this.pos = 0;
    }
    const p = this.pool;
    const i = this.pos;
    this.pos = i + 4;
    return ((p[i] ?? 0) | ((p[i + 1] ?? 0) << 8) | ((p[i + 2] ?? 0) << 16) | ((p[i + 3] ?? 0) << 24)) >>> 0;
  }

  /**
   * Uniform integer in [0, n), 1 ≤ n ≤ 2^32, as a number. Rejection sampling: draw the k low bits
   * (2^(k−1) < n ≤ 2^k) and retry while the draw is ≥ n, so each value has probability exactly 1/n;
   * fewer than 2 draws on average.
   */
  uniformSmall(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new LabError('LAB-E001', { detail: t('均匀抽样范围无效', 'invalid uniform range') });
    if (n === 1) return 0;
    const k = 32 - Math.clz32(n - 1); // bits of n − 1
    const mask = 2 ** k - 1; // at most 0xffffffff
    for (;;) {
      const x = (this.word32() & mask) >>> 0;
      if (x < n) return x;
    }
  }

  /** Uniform integer in [0, n) for any bigint n ≥ 1 (same rejection rule, 32 bits at a time). */
  uniformBelow(n: bigint): bigint {
    if (n < 1n) throw new LabError('LAB-E001', { detail: t('均匀抽样范围无效', 'invalid uniform range') });
    if (n <= TWO_32) return BigInt(this.uniformSmall(Number(n)));
    const k = bitLength(n - 1n);
    const words = Math.ceil(k / 32);
    const mask = (1n << BigInt(k)) - 1n;
    for (;;) {
      let x = 0n;
      for (let w = 0; w < words; w++) x = (x << 32n) | BigInt(this.word32());
      x &= mask;
      if (x < n) return x;
    }
  }

  /** Bernoulli(num/den) exactly, for 0 ≤ num ≤ den, den ≥ 1. */
  bernoulliFraction(num: bigint, den: bigint): boolean {
    if (num < 0n || den < 1n || num > den) throw new LabError('LAB-E001', { detail: t('伯努利概率不在 [0,1] 内', 'Bernoulli probability outside [0, 1]') });
    if (num === 0n) return false;
    if (num === den) return true;
    if (den <= TWO_32) return this.uniformSmall(Number(den)) < Number(num);
    return this.uniformBelow(den) < num;
  }

  /** Bernoulli(p) exactly, for a rational p in [0, 1]. */
  bernoulli(p: Rational): boolean {
    return this.bernoulliFraction(p.num, p.den);
  }
}

export const deterministicOutsideTests = (): LabError => new LabError('LAB-E123', {
  detail: t('确定性（可复现）随机源只能在测试中使用', 'a deterministic (seeded) randomness source may only be used in tests'),
});

/** Throws LAB-E123 unless `rng` is the cryptographic generator or a test is running. */
export function assertReleaseRng(rng: Rng): void {
  if (!rng.isCrypto && !isTestRun()) throw deterministicOutsideTests();
}
