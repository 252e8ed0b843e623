import { judgeConditionAudit, planConditionAudit } from '../../disclosure/condition-audit.ts';
import { LabError, t } from '../../errors/index.ts';
import type { Rel } from '../../ir/rel.ts';
import type { Database } from '../../store/database.ts';

/**
 * Runs the condition audit of a staff stage inside the domain (sandbox/disclosure/condition-audit.ts)
 * before its query: refuses with LAB-E125 when a condition singles out a few persons. The counts
 * never leave this function.
 */
export async function auditStageConditions(db: Database, aggregate: Rel, asOf: string, threshold: number, options: { readonly jobId?: string; readonly timeoutMs: number; readonly signal?: AbortSignal }): Promise<void> {
  const audits = planConditionAudit(aggregate, asOf, options.jobId !== undefined ? { jobId: options.jobId } : {});
  for (const audit of audits) {
    const rows = await db.readOnlyQuery<Record<string, unknown>>(audit.query.sql, audit.query.parameters, { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const row = rows[0];
    if (!row) throw new LabError('LAB-E001', { detail: t('条件审查没有返回结果', 'the condition audit returned no row') });
    judgeConditionAudit(audit, row, threshold);
  }
}
