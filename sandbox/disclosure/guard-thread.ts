import { Worker } from 'node:worker_threads';
import { LabError, isLabError, type ErrorCode } from '../errors/index.ts';
import type { AggregateTable } from '../pipeline/relation.ts';
import type { StaffGuardParams } from './guard-params.ts';
import type { ReleasedTable } from './released-table.ts';
import { priorReleasesFrom, type LedgerEntry } from './release-ledger.ts';
import { guardForStaff, type RawRow } from './staff-guard.ts';

/** Tables with at least this many cells are guarded in a thread of their own. */
export const GUARD_THREAD_MIN_CELLS = 20_000;

export interface GuardTask {
  readonly table: AggregateTable;
  readonly rows: readonly RawRow[];
  readonly params: StaffGuardParams;
  readonly prior: readonly LedgerEntry[];
}

export interface GuardOutcome {
  readonly released: ReleasedTable;
  /** Every cell released or suppressed now, for the release ledger. */
  readonly entries: LedgerEntry[];
}

/** What the thread posts back. A LabError travels as its code and fields (classes do not cross threads). */
export type GuardReply =
  | { readonly ok: true; readonly outcome: GuardOutcome }
  | { readonly ok: false; readonly labError?: { code: ErrorCode; detail?: { zh: string; en: string }; hint?: { zh: string; en: string }; field?: string }; readonly message: string };

/** The guard itself, on this thread. */
export function runGuard(task: GuardTask): GuardOutcome {
  const entries: LedgerEntry[] = [];
  const record = (e: LedgerEntry) => { entries.push(e); };
  const released = guardForStaff(task.table, task.rows, task.params, { prior: priorReleasesFrom(task.prior), onReleased: record, onSuppressed: record });
  return { released, entries };
}

/**
 * One guard thread per process, started on first use and kept: modules, the LP solver and compiled
 * code stay warm between stages (starting a thread costs ≈ 1.4 s here). Tasks run one at a time.
 */
let thread: Worker | undefined;
let queue: Promise<unknown> = Promise.resolve();
let nextId = 0;

function guardThread(): Worker {
  if (!thread) {
    const t = new Worker(threadUrl());
    t.unref(); // an idle guard thread never keeps the process alive
    t.on('exit', () => { if (thread === t) thread = undefined; });
    t.on('error', () => { if (thread === t) thread = undefined; });
    thread = t;
  }
  return thread;
}

/**
 * The guard, on a worker thread when the table is large: it is CPU-bound for seconds on big tables
 * and would otherwise stop the domain worker's heartbeat and its queue lock renewal. Aborting the
 * signal stops the thread (LAB-E073; the next task starts a new one). Small tables are guarded inline.
 */
export async function guardTable(task: GuardTask, signal?: AbortSignal, options: { minCells?: number } = {}): Promise<GuardOutcome> {
  if (task.rows.length < (options.minCells ?? GUARD_THREAD_MIN_CELLS)) return runGuard(task);
  const run = queue.then(() => onThread(task, signal));
  queue = run.catch(() => undefined);
  return run;
}

function onThread(task: GuardTask, signal?: AbortSignal): Promise<GuardOutcome> {
  return new Promise<GuardOutcome>((resolve, reject) => {
    const cancelled = () => new LabError('LAB-E073', { detail: { zh: '阶段已取消', en: 'the stage was cancelled' } });
    if (signal?.aborted) { reject(cancelled()); return; }
    const worker = guardThread();
    const id = ++nextId;
    worker.ref(); // busy: keep the process alive until the answer
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.unref();
      f();
    };
    const onAbort = () => finish(() => { if (thread === worker) thread = undefined; void worker.terminate(); reject(cancelled()); });
    const onMessage = (m: { id: number; reply: GuardReply }) => {
      if (m.id !== id) return;
      finish(() => {
        const reply = m.reply;
        if (reply.ok) resolve(reply.outcome);
        else if (reply.labError) {
          const { code, ...fields } = reply.labError;
          reject(new LabError(code, fields));
        } else reject(new Error(`guard thread: ${reply.message}`));
      });
    };
    const onError = (e: Error) => finish(() => reject(e));
    const onExit = (code: number) => finish(() => reject(new Error(`guard thread exited with code ${code}`)));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ id, task });
  });
}

export function replyFor(e: unknown): GuardReply {
  if (isLabError(e)) {
    return {
      ok: false, message: e.message,
      labError: { code: e.code, ...(e.detail ? { detail: e.detail } : {}), ...(e.hint ? { hint: e.hint } : {}), ...(e.field ? { field: e.field } : {}) },
    };
  }
  return { ok: false, message: e instanceof Error ? e.message : String(e) };
}

/** The thread's entry: TypeScript modules load through tsx, as in the worker process itself. */
function threadUrl(): URL {
  const target = new URL('./guard.thread.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`)}`);
}
