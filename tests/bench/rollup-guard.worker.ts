import { parentPort, workerData } from 'node:worker_threads';
import { GROUPING_COLUMN } from '../../sandbox/compile/plan.compile.ts';
import type { StaffGuardParams } from '../../sandbox/disclosure/guard-params.ts';
import { keysetsOf, type LedgerEntry } from '../../sandbox/disclosure/release-ledger.ts';
import { guardForStaff } from '../../sandbox/disclosure/staff-guard.ts';
import type { DomainId } from '../../sandbox/domains/domain-ids.ts';
import { guardKey, loadLedger } from '../../sandbox/runtime/worker/release-ledger.repository.ts';
import { runStageQuery, stageFor } from '../../sandbox/runtime/worker/stage-executor.ts';
import { openPostgres } from '../../sandbox/store/postgres.database.ts';

/** What the roll-up benchmark hands this thread: what the domain worker would receive, and its domain's URL. */
export interface GuardTask {
  /** The domain role's URL (the benchmark is the launcher; it provisioned the roles). */
  readonly url: string;
  readonly domain: DomainId;
  readonly stageId: string;
  readonly pipeline: unknown;
  readonly guard: StaffGuardParams;
}

/** Posted when the guard starts (the benchmark's time limit counts from here): what ran before it, and pre-guard facts. */
export interface GuardStarted {
  readonly kind: 'started';
  /** The stage's query (with contributor fingerprints) and the release-ledger read, as the worker runs them. */
  readonly querySeconds: number;
  readonly ledgerSeconds: number;
  /** To compare with the hand-written query: cells, distinct GROUPING() values, the grand total. */
  readonly preGuardCells: number;
  readonly groupings: readonly number[];
  readonly grandTotal: number;
}

/** Posted when the guard is done. */
export interface GuardDone {
  readonly kind: 'done';
  /** guardForStaff alone, first call in this thread (as in a freshly started worker). */
  readonly seconds: number;
  /** A second call with the same arguments, once the code is compiled (only when the first took < 10 s). */
  readonly warmSeconds: number | null;
  readonly cells: number;
  readonly suppressed: number;
}

/**
 * Times the disclosure guard alone, on a thread of its own so the benchmark can stop it when it
 * exceeds its time limit (the guard is synchronous). Everything before it is what `executeStage`
 * (stage-executor.ts) does in the domain worker — the stage re-planned from the document, the
 * query with contributor fingerprints, the release ledger — and the guard gets the same
 * arguments; only `guardForStaff` is in the timed span. Nothing is recorded in the ledger.
 */
const task = workerData as GuardTask;
const db = await openPostgres(task.domain, task.url, { max: 2 });
try {
  const stage = stageFor(task.domain, { jobId: 'bench', stageId: task.stageId, pipeline: task.pipeline, guard: task.guard });
  const key = await guardKey(db);
  const q0 = performance.now();
  const rows = await runStageQuery(db, stage, { fingerprintKey: key });
  const l0 = performance.now();
  const prior = await loadLedger(db, keysetsOf(stage.table.groupingSets), 'bench:guard');
  const l1 = performance.now();
  const total = (1 << stage.table.keys.length) - 1;
  const measure = stage.table.measures[0]?.name ?? 'persons';
  parentPort?.postMessage({
    kind: 'started', querySeconds: (l0 - q0) / 1000, ledgerSeconds: (l1 - l0) / 1000, preGuardCells: rows.length,
    groupings: [...new Set(rows.map((r) => Number(r[GROUPING_COLUMN])))],
    grandTotal: Number(rows.find((r) => Number(r[GROUPING_COLUMN]) === total)?.[measure]),
  } satisfies GuardStarted);
  const entries: LedgerEntry[] = [];
  const g0 = performance.now();
  const released = guardForStaff(stage.table, rows, task.guard, { prior, onReleased: (e) => entries.push(e) });
  const seconds = (performance.now() - g0) / 1000;
  let warmSeconds: number | null = null;
  if (seconds < 10) {
    const w0 = performance.now();
    guardForStaff(stage.table, rows, task.guard, { prior, onReleased: () => {} });
    warmSeconds = (performance.now() - w0) / 1000;
  }
  parentPort?.postMessage({ kind: 'done', seconds, warmSeconds, cells: released.guard.cells, suppressed: released.guard.suppressed } satisfies GuardDone);
} finally {
  await db.close();
}
