import { sql, type Kysely } from 'kysely';
import type { ControlSchema } from '../db/control.schema.ts';

type Db = Kysely<ControlSchema>;

/** Approvals of jobs and output-review transitions. */
export const approvalRepository = {
  /** One decision per officer and job; false when this officer decided already. */
  async insert(db: Db, a: { jobId: string; officerId: number; decision: 'approve' | 'reject'; reason: string; boundHash: string; policyVersion: number; expiresAt: Date }): Promise<boolean> {
    const r = await db.insertInto('approval')
      .values({ job_id: a.jobId, officer_id: a.officerId, decision: a.decision, reason: a.reason, bound_hash: a.boundHash, policy_version: a.policyVersion, expires_at: a.expiresAt })
      .onConflict((oc) => oc.columns(['job_id', 'officer_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return r !== undefined;
  },

  /** Distinct officers (never the owner) whose unexpired approvals are bound to `boundHash`. */
  async validApprovals(db: Db, jobId: string, boundHash: string, ownerId: number, now: Date): Promise<number> {
    const r = await db.selectFrom('approval')
      .select(sql<string>`count(DISTINCT officer_id)`.as('n'))
      .where('job_id', '=', jobId).where('decision', '=', 'approve').where('bound_hash', '=', boundHash)
      .where('officer_id', '<>', ownerId).where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  },

  async forJob(db: Db, jobId: string) {
    return db.selectFrom('approval').innerJoin('app_user', 'app_user.id', 'approval.officer_id')
      .select(['approval.officer_id', 'app_user.display_name', 'approval.decision', 'approval.reason', 'approval.created_at', 'approval.expires_at'])
      .where('approval.job_id', '=', jobId).orderBy('approval.created_at').execute();
  },

  /** The newest output-review decision of a job (its reason is shown to the requester). */
  async latestReview(db: Db, jobId: string) {
    return db.selectFrom('output_review').select(['to_state', 'reason', 'at']).where('job_id', '=', jobId).orderBy('id', 'desc').limit(1).executeTakeFirst();
  },

  async review(db: Db, r: { jobId: string; reviewerId: number; from: string; to: 'released' | 'returned' | 'rejected'; reason: string }): Promise<void> {
    await db.insertInto('output_review').values({ job_id: r.jobId, reviewer_id: r.reviewerId, from_state: r.from, to_state: r.to, reason: r.reason }).execute();
  },
};
