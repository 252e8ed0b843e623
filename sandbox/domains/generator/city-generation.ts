import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LabError, t } from '../../errors/index.ts';
import { buildPlan, type CityPlan } from './city-plan.ts';
import { PersonGenerator } from './city.generator.ts';
import { emptyTruth, mergeTruth, type TruthPartial } from './ground-truth.ts';
import { allTasks, runTask, taskOrdinal, type TaskResult } from './run-task.ts';
import type { FromWorker, ToWorker, WorkerInit } from './seed.worker.ts';
import { TABLES } from './tables.ts';

/** Receives one encoded chunk of a table; call `taken` once it has been consumed (gives credit back). */
export type TableSink = (table: number, bytes: Uint8Array, rows: number, taken: () => void) => void;

export interface GenerateOptions {
  persons: number;
  seed: string;
  asOf: string;
  /** Generator threads; 0 generates on the calling thread (tests, tiny cities). Output is the same. */
  threads: number;
  sink: TableSink;
  onPersons?: (done: number) => void;
  /** Aborts generation (e.g. a COPY failed). */
  signal?: AbortSignal;
}

export interface GenerateResult {
  plan: CityPlan;
  /** Per task (canonical order): rows and SHA-256 per table (each task's truth is merged into `truth`). */
  tasks: TaskSummary[];
  truth: TruthPartial;
}

export type TaskSummary = Omit<TaskResult, 'truth'>;

/** Unconsumed bytes a generator thread may have in flight before it pauses. */
const CREDIT_BYTES = 8 * 1024 * 1024;

export const defaultThreads = () => Math.max(1, Math.min(2, availableParallelism()));

/** Generates the whole city: every task, on `threads` worker threads (or inline), rows to `sink`. */
export async function generateCity(o: GenerateOptions): Promise<GenerateResult> {
  const plan = buildPlan(o.persons, o.seed, o.asOf);
  const tasks = allTasks();
  const truth = emptyTruth(plan);
  const results: TaskSummary[] = [];
  // Each task's truth is merged as soon as it arrives, so partials do not pile up.
  const collect = (r: TaskResult) => {
    mergeTruth(truth, r.truth);
    results.push({ ref: r.ref, rows: r.rows, digests: r.digests });
  };
  if (o.threads <= 0) {
    const generator = new PersonGenerator(plan, undefined as never, undefined as never);
    for (const ref of tasks) {
      if (o.signal?.aborted) throw abortReason(o.signal);
      // Inline: the sink's credit is ignored, but we yield so consumers can drain.
      let inFlight = 0;
      let resume: (() => void) | undefined;
      const result = await runTask(plan, ref, (table, bytes, rows) => {
        inFlight += bytes.byteLength;
        o.sink(table, bytes, rows, () => {
          inFlight -= bytes.byteLength;
          if (inFlight <= CREDIT_BYTES && resume) { const r = resume; resume = undefined; r(); }
        });
      }, async (persons) => {
        if (persons > 0) o.onPersons?.(persons);
        if (o.signal?.aborted) throw abortReason(o.signal);
        while (inFlight > CREDIT_BYTES) await new Promise<void>((r) => { resume = r; });
      }, generator);
      collect(result);
    }
  } else {
    await runOnWorkers(o, tasks, collect);
  }
  if (results.length !== tasks.length) throw new LabError('LAB-E040', { detail: t('生成任务不完整', 'generation tasks incomplete') });
  results.sort((a, b) => taskOrdinal(a.ref) - taskOrdinal(b.ref));
  return { plan, tasks: results, truth };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new LabError('LAB-E040', { detail: t('生成被中止', 'generation aborted') });
}

/** Worker bootstrap: registers tsx's loader (the project runs TypeScript without a build) and loads the worker module. */
function workerUrl(): URL {
  const target = new URL('./seed.worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

async function runOnWorkers(o: GenerateOptions, tasks: ReturnType<typeof allTasks>, collect: (r: TaskResult) => void): Promise<void> {
  const queue = [...tasks];
  const workers: Worker[] = [];
  const init: WorkerInit = { persons: o.persons, seed: o.seed, asOf: o.asOf, creditBytes: CREDIT_BYTES };
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      let failed = false;
      const fail = (e: unknown) => {
        if (failed) return;
        failed = true;
        reject(e instanceof LabError ? e : new LabError('LAB-E040', { detail: t('合成数据生成线程失败', 'a generator thread failed'), cause: e }));
      };
      o.signal?.addEventListener('abort', () => fail(abortReason(o.signal as AbortSignal)), { once: true });
      const next = (w: Worker) => {
        const ref = queue.shift();
        if (!ref) {
          if (--running === 0 && !failed) resolve();
          return;
        }
        w.postMessage({ type: 'task', ref } satisfies ToWorker);
      };
      const count = Math.min(o.threads, tasks.length);
      running = count;
      for (let i = 0; i < count; i++) {
        const w = new Worker(workerUrl(), { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 32 } });
        workers.push(w);
        w.on('message', (m: FromWorker) => {
          switch (m.type) {
            case 'ready':
              next(w);
              break;
            case 'chunk': {
              const size = m.bytes.byteLength;
              o.sink(m.table, m.bytes, m.rows, () => w.postMessage({ type: 'credit', bytes: size } satisfies ToWorker));
              break;
            }
            case 'progress':
              o.onPersons?.(m.persons);
              break;
            case 'done':
              collect(m.result);
              next(w);
              break;
            case 'error':
              fail(new LabError('LAB-E040', { detail: t(`生成线程出错：${m.message}`, `generator thread error: ${m.message}`), cause: Object.assign(new Error(m.message), { stack: m.stack }) }));
              break;
          }
        });
        w.on('error', fail);
        w.on('exit', (code) => { if (code !== 0) fail(new Error(`generator thread exited with code ${code}`)); });
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export { TABLES };
