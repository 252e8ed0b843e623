import { LabError, isLabError, t, type ErrorCode } from '../../errors/index.ts';
import { HashToCurve, type HashSuite } from './hash-to-curve.ts';
import { sodium, wipeSecure } from './sodium.ts';

/**
 * The PSI's compute, as it runs on one thread (a pool thread, or the caller's own thread when the
 * pool has none): hashing to the curve, X25519 under a per-job key, and point checks. Keys arrive
 * once per job and thread (`add-key`, the transferred copy is zeroed at once) and are wiped by
 * `drop-key`; they live in libsodium secure memory in between.
 */
export type EngineRequest =
  | { readonly op: 'add-key'; readonly keyId: number; readonly key: Uint8Array }
  | { readonly op: 'drop-key'; readonly keyId: number }
  | { readonly op: 'blind'; readonly keyId: number; readonly suite: HashSuite; readonly bytes: Uint8Array; readonly offsets: Uint32Array }
  | { readonly op: 'reblind'; readonly keyId: number; readonly points: Uint8Array }
  | { readonly op: 'check'; readonly points: Uint8Array }
  | { readonly op: 'hash'; readonly suite: HashSuite; readonly bytes: Uint8Array; readonly offsets: Uint32Array }
  | { readonly op: 'x25519-rate'; readonly count: number }
  | { readonly op: 'held-keys' }
  | { readonly op: 'wipe-all' };

export type EngineReply =
  | { readonly op: 'points'; readonly points: Uint8Array }
  | { readonly op: 'done' }
  | { readonly op: 'wiped'; readonly zeroed: boolean }
  | { readonly op: 'seconds'; readonly seconds: number }
  | { readonly op: 'keys'; readonly keyIds: readonly number[] };

/** What a thread posts back for a request; a LabError travels as its code and detail. */
export type EngineAnswer =
  | { readonly ok: true; readonly reply: EngineReply }
  | { readonly ok: false; readonly code?: ErrorCode; readonly detail?: { zh: string; en: string }; readonly message: string };

const invalidPoint = (): LabError => new LabError('LAB-E102', { detail: t('收到的点不在曲线上、编码不规范或阶过小', 'a received point is not on the curve, not canonical, or of low order') });

export class PsiEngine {
  private readonly keys = new Map<number, Buffer>();
  private readonly hashers = new Map<HashSuite, HashToCurve>();

  private hasher(suite: HashSuite): HashToCurve {
    let h = this.hashers.get(suite);
    if (!h) { h = new HashToCurve(suite); this.hashers.set(suite, h); }
    return h;
  }

  private key(keyId: number): Buffer {
    const k = this.keys.get(keyId);
    if (!k) throw new LabError('LAB-E105', { detail: t('该线程上没有此会话的密钥（会话已关闭或线程已重启）', 'this thread holds no key for the session (it was closed, or the thread restarted)') });
    return k;
  }

  run(req: EngineRequest): EngineReply {
    switch (req.op) {
      case 'add-key': {
        const k = sodium.sodium_malloc(32);
        k.set(req.key);
        sodium.sodium_memzero(req.key);
        const old = this.keys.get(req.keyId);
        if (old) wipeSecure(old);
        this.keys.set(req.keyId, k);
        return { op: 'done' };
      }
      case 'drop-key': {
        const k = this.keys.get(req.keyId);
        this.keys.delete(req.keyId);
        return { op: 'wiped', zeroed: k ? wipeSecure(k) : true };
      }
      case 'held-keys':
        return { op: 'keys', keyIds: [...this.keys.keys()] };
      case 'wipe-all':
        this.wipeAll();
        return { op: 'done' };
      case 'hash': {
        const n = req.offsets.length - 1;
        const out = new Uint8Array(32 * n);
        this.hasher(req.suite).hashPacked({ bytes: req.bytes, offsets: req.offsets }, 0, n, out, 0);
        return { op: 'points', points: out };
      }
      case 'blind': {
        const key = this.key(req.keyId);
        const n = req.offsets.length - 1;
        const out = new Uint8Array(32 * n);
        this.hasher(req.suite).hashPacked({ bytes: req.bytes, offsets: req.offsets }, 0, n, out, 0);
        this.multiply(key, out, out);
        return { op: 'points', points: out };
      }
      case 'reblind': {
        const key = this.key(req.keyId);
        const n = req.points.length / 32;
        if (!this.hasher('RO').validPoints(req.points, 0, n)) throw invalidPoint();
        const out = new Uint8Array(req.points.length);
        this.multiply(key, req.points, out);
        return { op: 'points', points: out };
      }
      case 'check': {
        if (!this.hasher('RO').validPoints(req.points, 0, req.points.length / 32)) throw invalidPoint();
        return { op: 'done' };
      }
      case 'x25519-rate': {
        // The limit the PSI is measured against: X25519 on valid points with a fresh key.
        const key = sodium.sodium_malloc(32);
        sodium.randombytes_buf(key);
        const p = this.hasher('RO').hash(['rate-probe-0', 'rate-probe-1', 'rate-probe-2', 'rate-probe-3']);
        const q = new Uint8Array(32);
        const t0 = performance.now();
        for (let i = 0; i < req.count; i++) sodium.crypto_scalarmult(q, key, p.subarray(32 * (i & 3), 32 * (i & 3) + 32));
        const seconds = (performance.now() - t0) / 1000;
        wipeSecure(key);
        return { op: 'seconds', seconds };
      }
    }
  }

  /** out[i] = X25519(key, in[i]) for every 32-byte point (in and out may be the same buffer). */
  private multiply(key: Buffer, input: Uint8Array, out: Uint8Array): void {
    const q = new Uint8Array(32);
    for (let at = 0; at < input.length; at += 32) {
      try {
        sodium.crypto_scalarmult(q, key, input.subarray(at, at + 32));
      } catch {
        throw invalidPoint(); // libsodium refuses a low-order input (an all-zero result)
      }
      out.set(q, at);
    }
  }

  /** Wipes every key this engine holds (thread exit, pool close). */
  wipeAll(): void {
    for (const k of this.keys.values()) wipeSecure(k);
    this.keys.clear();
  }
}

export function answerFor(e: unknown): EngineAnswer {
  if (isLabError(e)) return { ok: false, code: e.code, ...(e.detail ? { detail: e.detail } : {}), message: e.message };
  return { ok: false, message: e instanceof Error ? e.message : String(e) };
}
