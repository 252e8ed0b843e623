/** Reading an officer's inbox item (GET /api/approvals): fields the API keeps loosely typed, read safely. Pure. */
import type { InboxItem, Level, RunDecision } from '../api/types.ts';

/** The highest classification a job reads (1–4) as a level; unknown reads as L4 (the strictest). */
export function levelOf(maxLevel: number | null): Level {
  if (maxLevel === 1) return 'L1';
  if (maxLevel === 2) return 'L2';
  if (maxLevel === 3) return 'L3';
  return 'L4';
}

export function domainsOf(item: Pick<InboxItem, 'domains'>): string[] {
  return Array.isArray(item.domains) ? item.domains.filter((d): d is string => typeof d === 'string') : [];
}

/** The policy decision recorded with the job (which policies decided, how many approvals). */
export function decisionOf(item: Pick<InboxItem, 'decision'>): RunDecision | undefined {
  const d = item.decision;
  if (typeof d !== 'object' || d === null) return undefined;
  const r = d as Partial<RunDecision>;
  if (typeof r.decision !== 'string' || !Array.isArray(r.policies)) return undefined;
  return {
    decision: r.decision, approvalsRequired: typeof r.approvalsRequired === 'number' ? r.approvalsRequired : 0,
    policyVersion: typeof r.policyVersion === 'number' ? r.policyVersion : 0, policies: r.policies.filter((p): p is string => typeof p === 'string'),
  };
}
