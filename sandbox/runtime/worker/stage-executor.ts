import { sql } from 'kysely';
import type { DomainId } from '../../domains/domain-ids.ts';
import type { RawRow } from '../../disclosure/staff-guard.ts';
import type { StaffGuardParams } from '../../disclosure/guard-params.ts';
import type { ReleasedTable } from '../../disclosure/released-table.ts';
import { LabError, t } from '../../errors/index.ts';
import { FINGERPRINT_COLUMN, compileRel } from '../../compile/plan.compile.ts';
import { planPipeline, type DomainStage, type FollowUpStage } from '../../plan/planner.ts';
import { validatePipeline } from '../../pipeline/validate.ts';
import type { Database } from '../../store/database.ts';
import { dpClampBounds, releaseWithDp, type GeoUnitRow } from '../../disclosure/dp-release.ts';
import { guardTable } from '../../disclosure/guard-thread.ts';
import { keysetsOf } from '../../disclosure/release-ledger.ts';
import { auditStageConditions } from './condition-audit.runner.ts';
import { guardKey, loadLedgerEntries, recordRelease } from './release-ledger.repository.ts';

/** What the coordinator sends a domain: the pipeline document, which output, and the rules. No SQL. */
export interface StagePayload {
  readonly jobId: string;
  readonly stageId: string;
  readonly pipeline: unknown;
  readonly guard: StaffGuardParams;
  /**
   * Researchers' runs: differential privacy on every released value, ε charged by the
   * coordinator before the stage was sent (policies: per researcher and project).
   */
  readonly dp?: { readonly epsilon: string; readonly mechanism: 'discrete-laplace' | 'discrete-gaussian' };
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 120_000;

/**
 * The domain re-validates and re-plans the pipeline itself and compiles its own SQL: it trusts the
 * coordinator with nothing but the document. A stage addressed to another domain is refused.
 */
export function stageFor(domain: DomainId, payload: StagePayload): DomainStage {
  const stage = anyStageFor(domain, payload);
  if (stage.kind !== 'domain') throw new LabError('LAB-E004', { detail: t(`阶段 ${payload.stageId} 不是统计表`, `stage ${payload.stageId} is not a table`) });
  return stage;
}

/** `stageFor`, also for follow-up lists. */
export function anyStageFor(domain: DomainId, payload: StagePayload): DomainStage | FollowUpStage {
  const v = validatePipeline(payload.pipeline);
  if (!v.ok) throw v.errors[0] ?? new LabError('LAB-E003');
  const stage = planPipeline(v.pipeline).stages.find((s) => s.id === payload.stageId);
  if (!stage || stage.kind === 'protocol') {
    throw new LabError('LAB-E004', { detail: t(`流程中没有阶段 ${payload.stageId}`, `the pipeline has no stage ${payload.stageId}`) });
  }
  if (stage.domain !== domain) {
    throw new LabError('LAB-E012', { detail: t(`阶段 ${stage.id} 属于 ${stage.domain} 域，不在本域执行`, `stage ${stage.id} belongs to the ${stage.domain} domain, not this one`) });
  }
  return stage;
}

/** The snapshot date of this domain's data (written by the loader), the reference for ages. */
export async function snapshotDate(db: Database): Promise<string> {
  const r = await sql<{ value: string }>`SELECT value FROM lab_meta WHERE key = 'as_of'`.execute(db.kysely);
  const v = r.rows[0]?.value;
  if (!v) throw new LabError('LAB-E020', { detail: t('本域尚未载入数据', 'this domain holds no loaded data yet') });
  return v;
}

/**
 * Runs a stage's aggregate query in a read-only transaction with a statement timeout. The rows it
 * returns are pre-guard: they never leave the worker (tests read them only through this function).
 */
export async function runStageQuery(db: Database, stage: DomainStage, options: StageRunOptions & { fingerprintKey?: string; clampPerUnit?: Record<string, readonly [number, number]>; jobId?: string } = {}): Promise<RawRow[]> {
  const asOf = await snapshotDate(db);
  const q = compileRel(stage.rel, asOf, {
    ...(options.jobId !== undefined ? { jobId: options.jobId } : {}),
    ...(options.fingerprintKey !== undefined ? { fingerprintKey: options.fingerprintKey } : {}),
    ...(options.clampPerUnit !== undefined ? { clampPerUnit: options.clampPerUnit } : {}),
  });
  const timeout = Math.max(1, Math.floor(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS));
  const signal = options.signal;
  const cancelled = () => new LabError('LAB-E073', { detail: t('阶段已取消', 'the stage was cancelled') });
  if (signal?.aborted) throw cancelled();
  try {
    if (options.conditionThreshold !== undefined) {
      await auditStageConditions(db, stage.rel, asOf, options.conditionThreshold, { timeoutMs: timeout, ...(options.jobId !== undefined ? { jobId: options.jobId } : {}), ...(signal ? { signal } : {}) });
    }
    return await db.readOnlyQuery<RawRow>(q.sql, q.parameters, { timeoutMs: timeout, ...(signal ? { signal } : {}) });
  } catch (e) {
    if (signal?.aborted) throw cancelled();
    const message = e instanceof Error ? e.message : String(e);
    if (/statement timeout|canceling statement/i.test(message)) {
      throw new LabError('LAB-E070', { detail: t(`阶段运行超过 ${timeout} 毫秒`, `the stage ran longer than ${timeout} ms`), hint: t('缩小范围或联系管理员调整时限', 'Narrow the query or ask an administrator to raise the limit') });
    }
    throw e;
  }
}

export interface StageRunOptions {
  readonly statementTimeoutMs?: number;
  /** Staff tables: refuse conditions that hold or fail for at most this many persons (condition-audit.ts). */
  readonly conditionThreshold?: number;
  /** The job whose protocol steps' members the stage reads (`member` nodes). */
  readonly jobId?: string;
  /** Aborting it cancels the running query (Postgres) and refuses to start or release (LAB-E073). */
  readonly signal?: AbortSignal;
}

/**
 * Runs a stage and guards its table inside the domain, against this domain's release ledger, and
 * records there what it released and what it suppressed; only the released table is returned. A
 * retried stage replaces its own ledger entries (release id = job id + stage id) and is not
 * compared with itself. Earlier suppressed cells are looked up by the new cells' fingerprints too
 * (the same contributors under other keys).
 */
export async function executeStage(db: Database, domain: DomainId, payload: StagePayload, options: StageRunOptions = {}): Promise<ReleasedTable> {
  const stage = anyStageFor(domain, payload);
  if (stage.kind === 'follow-up') {
    if (payload.dp) throw new LabError('LAB-E165', { detail: t('差分隐私发布不能生成随访名单', 'a differentially private run cannot write a follow-up list'), nodeId: stage.id });
    const { executeFollowUp } = await import('./follow-up.ts');
    return executeFollowUp(db, stage, payload.jobId, payload.guard, options.signal);
  }
  options = { ...options, jobId: payload.jobId };
  if (payload.dp) {
    // Researchers: noise inside the domain, over the public domain of every grouping set; the
    // pre-noise counts never leave. No release ledger: DP composes by its budget instead.
    if (payload.dp.mechanism !== 'discrete-laplace') {
      throw new LabError('LAB-E120', { detail: t('本数据域仅支持离散拉普拉斯机制', 'this domain supports the discrete Laplace mechanism only'), field: 'dp.mechanism' });
    }
    const rows = await runStageQuery(db, stage, { ...options, clampPerUnit: dpClampBounds(stage.table) });
    const geography = await db.readOnlyQuery<GeoUnitRow>('SELECT code, level, parent_code FROM geo_unit', [], { timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS });
    return releaseWithDp({ table: stage.table, rel: stage.rel, rows, geography, params: payload.guard, epsilon: payload.dp.epsilon });
  }
  const releaseId = `${payload.jobId}:${payload.stageId}`;
  const key = await guardKey(db);
  const rows = await runStageQuery(db, stage, { ...options, fingerprintKey: key, conditionThreshold: payload.guard.threshold });
  const fingerprints = [...new Set(rows.map((r) => r[FINGERPRINT_COLUMN]).filter((fp): fp is string => typeof fp === 'string'))];
  const prior = await loadLedgerEntries(db, keysetsOf(stage.table.groupingSets), releaseId, fingerprints);
  const { released, entries } = await guardTable({ table: stage.table, rows, params: payload.guard, prior }, options.signal);
  if (options.signal?.aborted) throw new LabError('LAB-E073', { detail: t('阶段已取消', 'the stage was cancelled') });
  await recordRelease(db, releaseId, entries);
  return released;
}
