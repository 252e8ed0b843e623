import { Worker } from 'node:worker_threads';
import { LabError, t } from '../errors/index.ts';

type Answer = { id: number; ok: true; data?: Float32Array } | { id: number; ok: false; error: string };

/** The embedder session in a worker thread (embedder.thread.ts); batches go one at a time, in order. */
export class EmbedderThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (d: Float32Array) => void; reject: (e: LabError) => void }>();
  #next = 1;
  #dead: LabError | undefined;
  readonly ready: Promise<void>;

  constructor(model: Uint8Array, options: { threads: number; inputName: string | undefined; output: string }) {
    // Referenced only while a request is open: an idle engine does not keep the process alive, a
    // pending batch does.
    this.#worker = new Worker(threadUrl(), { workerData: { model, ...options } });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#pending.set(0, { resolve: () => resolve(), reject });
    });
    this.#worker.on('message', (a: Answer) => {
      const p = this.#pending.get(a.id);
      if (!p) return;
      this.#pending.delete(a.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (a.ok) p.resolve(a.data ?? new Float32Array(0));
      else p.reject(new LabError(a.id === 0 ? 'LAB-E143' : 'LAB-E144', { detail: t(a.error, a.error) }));
    });
    const fail = (why: string) => {
      this.#dead ??= new LabError('LAB-E144', { detail: t(`嵌入线程退出：${why}`, `the embedder thread ended: ${why}`) });
      for (const p of this.#pending.values()) p.reject(this.#dead);
      this.#pending.clear();
    };
    this.#worker.on('error', (e) => fail(e.message));
    this.#worker.on('exit', (code) => fail(`exit ${code}`));
  }

  /** Runs one batch; the input buffer is transferred (unusable afterwards). */
  run(input: Float32Array, dims: readonly number[]): Promise<Float32Array> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, input, dims }, [input.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.#dead ??= new LabError('LAB-E145');
    await this.#worker.terminate();
  }
}

/** The thread entry through tsx's loader (the lab runs TypeScript directly), as sandbox/crypto/psi does. */
function threadUrl(): URL {
  const target = new URL('./embedder.thread.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`)}`);
}
