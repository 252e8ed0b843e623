import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LabError, t } from '../../errors/index.ts';
import type { HashSuite, PackedItems } from './hash-to-curve.ts';
import { PsiEngine, type EngineAnswer, type EngineReply, type EngineRequest } from './psi-engine.ts';

/** Items per hashing-and-blinding task (≈ 50 ms of work), points per reblinding task. */
const BLIND_CHUNK = 1024;
const POINT_CHUNK = 2048;

interface Job {
  readonly req: EngineRequest;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (r: EngineReply) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker | undefined;
  busy: Job | undefined;
  /** Jobs for this thread only (keys). */
  readonly own: Job[];
}

const threadFailed = (why: string): LabError => new LabError('LAB-E107', { detail: t(`PSI 计算线程失败：${why}`, `a PSI compute thread failed: ${why}`) });

/**
 * The threads that do the PSI's scalar multiplications (the cost of the protocol). One pool per
 * process is enough (`PsiPool.shared()`, one thread per core); every session of the process
 * shares it, so two sessions (or both parties in a test) divide the cores between them. Work is
 * cut into chunks that any idle thread takes; keys go to every thread (`registerKey`) and are
 * wiped on every thread (`dropKey`). Threads start on first use and do not keep the process alive
 * while idle. With `threads: 0` everything runs on the caller's thread (small jobs, tests).
 */
export class PsiPool {
  private static sharedPool: PsiPool | undefined;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly inline: PsiEngine | undefined;
  private nextId = 1;
  private nextKeyId = 1;
  private readonly pending = new Map<number, Job>();
  private closed = false;

  /** The process-wide pool: one thread per core. */
  static shared(): PsiPool {
    PsiPool.sharedPool ??= new PsiPool(availableParallelism());
    return PsiPool.sharedPool;
  }

  constructor(readonly threads: number = availableParallelism()) {
    if (!Number.isInteger(threads) || threads < 0 || threads > 256) throw new RangeError('PsiPool: threads');
    this.slots = Array.from({ length: threads }, () => ({ worker: undefined, busy: undefined, own: [] }));
    this.inline = threads === 0 ? new PsiEngine() : undefined;
  }

  /** Runs one request on any thread. */
  request(req: EngineRequest, transfer: ArrayBuffer[] = []): Promise<EngineReply> {
    return new Promise<EngineReply>((resolve, reject) => {
      this.enqueue({ req, transfer, resolve, reject }, undefined);
    });
  }

  /** Runs a request on every thread (or once inline); `make` is called per thread. */
  broadcast(make: () => { req: EngineRequest; transfer: ArrayBuffer[] }): Promise<EngineReply[]> {
    const targets = this.threads === 0 ? [undefined] : this.slots.map((_, i) => i);
    return Promise.all(targets.map((i) => new Promise<EngineReply>((resolve, reject) => {
      const { req, transfer } = make();
      this.enqueue({ req, transfer, resolve, reject }, i);
    })));
  }

  private enqueue(job: Job, slot: number | undefined): void {
    if (this.closed) { job.reject(new LabError('LAB-E105', { detail: t('PSI 线程池已关闭', 'the PSI thread pool is closed') })); return; }
    if (this.inline) {
      const engine = this.inline;
      setImmediate(() => {
        try { job.resolve(engine.run(job.req)); } catch (e) { job.reject(e); }
      });
      return;
    }
    if (slot === undefined) this.queue.push(job);
    else this.slots[slot]!.own.push(job);
    this.dispatch();
  }

  private dispatch(): void {
    this.slots.forEach((s, i) => {
      if (s.busy) return;
      const job = s.own.shift() ?? this.queue.shift();
      if (!job) return;
      const w = this.worker(i);
      s.busy = job;
      const id = this.nextId++;
      this.pending.set(id, job);
      w.ref();
      w.postMessage({ id, req: job.req }, job.transfer);
    });
  }

  private worker(i: number): Worker {
    const s = this.slots[i]!;
    if (s.worker) return s.worker;
    const w = new Worker(threadUrl());
    w.unref();
    const fail = (why: string) => {
      if (s.worker !== w) return;
      s.worker = undefined;
      const job = s.busy;
      s.busy = undefined;
      for (const [id, j] of this.pending) if (j === job) this.pending.delete(id);
      job?.reject(threadFailed(why));
      this.dispatch();
    };
    w.on('message', (m: { id: number; answer: EngineAnswer }) => {
      const job = this.pending.get(m.id);
      this.pending.delete(m.id);
      s.busy = undefined;
      w.unref();
      if (job) settle(job, m.answer);
      this.dispatch();
    });
    w.on('error', (e: Error) => fail(e.message));
    w.on('exit', (code: number) => fail(`exited with code ${code}`));
    s.worker = w;
    return w;
  }

  /** Copies a key to every thread's secure memory; the copies in transit are zeroed by the threads. */
  async registerKey(key: Uint8Array): Promise<number> {
    const keyId = this.nextKeyId++;
    await this.broadcast(() => {
      const copy = new Uint8Array(32);
      copy.set(key);
      return { req: { op: 'add-key', keyId, key: copy }, transfer: this.threads === 0 ? [] : [copy.buffer] };
    });
    return keyId;
  }

  /** Wipes a key on every thread; true when every thread read its copy back as zeros before freeing it. */
  async dropKey(keyId: number): Promise<boolean> {
    const replies = await this.broadcast(() => ({ req: { op: 'drop-key', keyId }, transfer: [] }));
    return replies.every((r) => r.op === 'wiped' && r.zeroed);
  }

  /** Key ids each thread still holds (for tests). */
  async heldKeys(): Promise<number[][]> {
    const replies = await this.broadcast(() => ({ req: { op: 'held-keys' }, transfer: [] }));
    return replies.map((r) => (r.op === 'keys' ? [...r.keyIds] : []));
  }

  /** X25519(key, hash_to_curve(item)) for every item, in order. */
  blind(keyId: number, suite: HashSuite, items: PackedItems): Promise<Uint8Array> {
    return this.itemsOp(items, (bytes, offsets) => ({ op: 'blind', keyId, suite, bytes, offsets }));
  }

  /** hash_to_curve(item) (u-coordinates) for every item, in order: benchmarks and tests. */
  hash(suite: HashSuite, items: PackedItems): Promise<Uint8Array> {
    return this.itemsOp(items, (bytes, offsets) => ({ op: 'hash', suite, bytes, offsets }));
  }

  /** Checks the points, then X25519(key, point) for each, in order (LAB-E102 on an invalid point). */
  reblind(keyId: number, points: Uint8Array): Promise<Uint8Array> {
    return this.pointsOp(points, (chunk) => ({ op: 'reblind', keyId, points: chunk }), true);
  }

  /** Checks the points (LAB-E102 on an invalid one). */
  async check(points: Uint8Array): Promise<void> {
    await this.pointsOp(points, (chunk) => ({ op: 'check', points: chunk }), false);
  }

  /** X25519 scalar multiplications per second with every thread busy at once (the benchmark's limit). */
  async x25519Rate(countPerThread: number): Promise<number> {
    const t0 = performance.now();
    const replies = await this.broadcast(() => ({ req: { op: 'x25519-rate', count: countPerThread }, transfer: [] }));
    const wall = (performance.now() - t0) / 1000;
    const busiest = Math.max(...replies.map((r) => (r.op === 'seconds' ? r.seconds : wall)));
    return (countPerThread * replies.length) / busiest;
  }

  private async itemsOp(items: PackedItems, make: (bytes: Uint8Array, offsets: Uint32Array) => EngineRequest): Promise<Uint8Array> {
    const n = items.offsets.length - 1;
    const out = new Uint8Array(32 * n);
    const parts: Promise<void>[] = [];
    for (let a = 0; a < n; a += BLIND_CHUNK) {
      const b = Math.min(n, a + BLIND_CHUNK);
      const base = items.offsets[a]!;
      const bytes = items.bytes.slice(base, items.offsets[b]!);
      const offsets = items.offsets.slice(a, b + 1);
      for (let k = 0; k < offsets.length; k++) offsets[k]! -= base;
      parts.push(this.request(make(bytes, offsets), this.threads === 0 ? [] : [bytes.buffer, offsets.buffer]).then((r) => {
        if (r.op === 'points') out.set(r.points, 32 * a);
      }));
    }
    await Promise.all(parts);
    return out;
  }

  private async pointsOp(points: Uint8Array, make: (chunk: Uint8Array) => EngineRequest, collect: boolean): Promise<Uint8Array> {
    const n = points.length / 32;
    const out = collect ? new Uint8Array(points.length) : new Uint8Array(0);
    const parts: Promise<void>[] = [];
    for (let a = 0; a < n; a += POINT_CHUNK) {
      const b = Math.min(n, a + POINT_CHUNK);
      const chunk = points.slice(32 * a, 32 * b);
      parts.push(this.request(make(chunk), this.threads === 0 ? [] : [chunk.buffer]).then((r) => {
        if (collect && r.op === 'points') out.set(r.points, 32 * a);
      }));
    }
    await Promise.all(parts);
    return out;
  }

  /** Stops the threads (their keys are wiped as they close). */
  async close(): Promise<void> {
    if (this.closed) return;
    const live = this.slots.flatMap((s, i) => (s.worker ? [i] : []));
    await Promise.all(live.map((i) => new Promise<EngineReply>((resolve, reject) => {
      this.enqueue({ req: { op: 'wipe-all' }, transfer: [], resolve, reject }, i);
    }))).catch(() => undefined);
    this.closed = true;
    if (this.inline) this.inline.wipeAll();
    const ws = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined);
    for (const s of this.slots) s.worker = undefined;
    await Promise.all(ws.map((w) => w.terminate()));
    if (PsiPool.sharedPool === this) PsiPool.sharedPool = undefined;
  }
}

function settle(job: Job, a: EngineAnswer): void {
  if (a.ok) job.resolve(a.reply);
  else if (a.code) job.reject(new LabError(a.code, a.detail ? { detail: a.detail } : {}));
  else job.reject(threadFailed(a.message));
}

/** The thread's entry: TypeScript modules load through tsx, as in the worker process itself. */
function threadUrl(): URL {
  const target = new URL('./psi.thread.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`)}`);
}

