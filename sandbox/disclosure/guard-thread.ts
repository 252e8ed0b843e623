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
  /** Every cell released now, for the release ledger. */
  readonly entries: LedgerEntry[];
}

/** What the thread posts back. A LabError travels as its code and fields (classes do not cross threads). */
export type GuardReply =
  | { readonly ok: true; readonly outcome: GuardOutcome }
  | { readonly ok: false; readonly labError?: { code: ErrorCode; detail?: { zh: string; en: string }; hint?: { zh: string; en: string }; field?: string }; readonly message: string };

/** The guard itself, on this thread. */
export function runGuard(task: GuardTask): GuardOutcome {
  const entries: LedgerEntry[] = [];
  const released = guardForStaff(task.table, task.rows, task.params, { prior: priorReleasesFrom(task.prior), onReleased: (e) => entries.push(e) });
  return { released, entries };
}

/**
 * The guard, on a worker thread when the table is large: it is CPU-bound for seconds on big tables
 * and would otherwise stop the domain worker's heartbeat and its queue lock renewal. Aborting the
 * signal stops the thread (LAB-E073). Small tables are guarded inline (a thread costs ~0.2 s).
 */
export async function guardTable(task: GuardTask, signal?: AbortSignal, options: { minCells?: number } = {}): Promise<GuardOutcome> {
  if (task.rows.length < (options.minCells ?? GUARD_THREAD_MIN_CELLS)) return runGuard(task);
  const worker = new Worker(threadUrl(), { workerData: task });
  return new Promise<GuardOutcome>((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      f();
    };
    const onAbort = () => finish(() => reject(new LabError('LAB-E073', { detail: { zh: '阶段已取消', en: 'the stage was cancelled' } })));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) { onAbort(); return; }
    worker.on('message', (reply: GuardReply) => finish(() => {
      if (reply.ok) resolve(reply.outcome);
      else if (reply.labError) {
        const { code, ...fields } = reply.labError;
        reject(new LabError(code, fields));
      } else reject(new Error(`guard thread: ${reply.message}`));
    }));
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`guard thread exited with code ${code}`))));
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
