import { parentPort, workerData } from 'node:worker_threads';
import { buildPlan } from './city-plan.ts';
import { PersonGenerator } from './city.generator.ts';
import { runTask, type TaskRef } from './run-task.ts';

/**
 * Generator thread. Receives tasks one at a time, streams encoded rows to the main thread
 * (transferring the buffers), and pauses when more than `creditBytes` are still unconsumed.
 */
export interface WorkerInit { persons: number; seed: string; asOf: string; creditBytes: number }
export type ToWorker = { type: 'task'; ref: TaskRef } | { type: 'credit'; bytes: number };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'chunk'; table: number; bytes: Uint8Array; rows: number }
  | { type: 'progress'; persons: number }
  | { type: 'done'; result: Awaited<ReturnType<typeof runTask>> }
  | { type: 'error'; message: string; stack: string | undefined };

const port = parentPort;
if (!port) throw new Error('seed.worker.ts must run in a worker thread');
const init = workerData as WorkerInit;
const plan = buildPlan(init.persons, init.seed, init.asOf);
const generator = new PersonGenerator(plan, undefined as never, undefined as never);
let outstanding = 0;
let resume: (() => void) | undefined;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

async function pause(persons: number): Promise<void> {
  if (persons > 0) post({ type: 'progress', persons });
  while (outstanding > init.creditBytes) await new Promise<void>((r) => { resume = r; });
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'credit') {
    outstanding -= m.bytes;
    if (outstanding <= init.creditBytes && resume) {
      const r = resume;
      resume = undefined;
      r();
    }
    return;
  }
  runTask(plan, m.ref, (table, bytes, rows) => {
    outstanding += bytes.byteLength;
    post({ type: 'chunk', table, bytes, rows }, [bytes.buffer as ArrayBuffer]);
  }, pause, generator).then(
    (result) => post({ type: 'done', result }),
    (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }),
  );
});
post({ type: 'ready' });
