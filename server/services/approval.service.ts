import type { Resource } from '../../policies/engine.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema, ReviewState } from '../db/control.schema.ts';
import { approvalRepository } from '../repositories/approval.repository.ts';
import { jobRepository } from '../repositories/job.repository.ts';
import { findUserById } from '../repositories/user.repository.ts';
import type { SessionUser } from './auth.service.ts';
import { dispatch, jobResource, type JobRow } from './job.service.ts';
import { auditTrailOf, userActor } from './audit.service.ts';
import { activePolicy, policyVersion, principalOf } from './policy.service.ts';

type Db = Database<ControlSchema>;

async function ownerPrincipal(db: Db, job: JobRow) {
  const owner = await findUserById(db.kysely, job.owner_id);
  if (!owner) throw new Error(`job ${job.id} has no owner`);
  return principalOf({ id: owner.id, username: owner.username, displayName: owner.display_name, role: owner.role, domain: owner.domain });
}

async function jobForOfficer(db: Db, officer: SessionUser, jobId: string, action: 'job.approve' | 'output.review'): Promise<JobRow> {
  const job = await jobRepository.find(db, jobId);
  if (!job) throw new LabError('LAB-E004', { detail: t('任务不存在', 'no such job') });
  if (job.owner_id === officer.id) throw new LabError('LAB-E133');
  const engine = await activePolicy(db);
  const d = engine.decide(principalOf(officer), action, jobResource(job));
  if (d.decision !== 'allow') {
    // Who may not approve may not learn which jobs exist either.
    throw new LabError('LAB-E004', { detail: t('任务不存在', 'no such job') });
  }
  return job;
}

export interface ApprovalOutcome {
  readonly state: string;
  readonly approvals: number;
  readonly approvalsRequired: number;
}

/**
 * An officer approves a job waiting for approval. The approval is bound to the job's binding hash
 * and its policy version: when the policy in force is no longer the one that decided the run, the
 * approval is void (409 LAB-E132) and the job is rejected — it must be submitted again. When the
 * distinct, unexpired approvals satisfy the policy, the job is sent to its domains.
 */
export async function approveJob(db: Db, queue: QueueDriver, officer: SessionUser, jobId: string, note: string): Promise<ApprovalOutcome> {
  const job = await jobForOfficer(db, officer, jobId, 'job.approve');
  if (job.state !== 'awaiting_approval') throw new LabError('LAB-E134', { detail: t(`任务状态为 ${job.state}`, `the job is ${job.state}`) });
  const engine = await activePolicy(db);
  if (engine.version !== job.policy_version || !job.bound_hash) {
    await jobRepository.transition(db, jobId, 'awaiting_approval', 'rejected', { code: 'LAB-E132', zh: `策略已更新为 v${engine.version}，请重新提交`, en: `the policy is now v${engine.version}; submit the run again` });
    await auditTrailOf(db).append({ actor: userActor(officer), action: 'approval.void', resource: { type: 'job', id: jobId }, decision: 'deny', policyVersion: engine.version, pipelineHash: job.spec_hash, detail: { decidedUnder: job.policy_version } });
    throw new LabError('LAB-E132', { detail: t(`任务按策略 v${job.policy_version ?? '?'} 判定，现行策略为 v${engine.version}`, `the run was decided under policy v${job.policy_version ?? '?'}, v${engine.version} is in force`) });
  }
  const expiresAt = new Date(Date.now() + engine.params.approvals.validHours * 3_600_000);
  const inserted = await approvalRepository.insert(db.kysely, { jobId, officerId: officer.id, decision: 'approve', reason: note, boundHash: job.bound_hash, policyVersion: engine.version, expiresAt });
  if (!inserted) throw new LabError('LAB-E134', { detail: t('您已审批过该任务', 'you have already decided on this job') });
  const approvals = await approvalRepository.validApprovals(db.kysely, jobId, job.bound_hash, job.owner_id, new Date());
  await auditTrailOf(db).append({
    actor: userActor(officer), action: 'approval.grant', resource: { type: 'job', id: jobId }, decision: 'allow', policyVersion: engine.version,
    pipelineHash: job.spec_hash, detail: { boundHash: job.bound_hash, approvals, approvalsRequired: job.approvals_required, expiresAt: expiresAt.toISOString() },
  });
  const pipeline: Resource = { type: 'Pipeline', id: job.pipeline_id, ownerId: job.owner_id, maxLevel: job.max_level ?? 4, domainCount: Array.isArray(job.domains) ? job.domains.length : 1 };
  const owner = await ownerPrincipal(db, job);
  const decidingEngine = await policyVersion(db, job.policy_version);
  if (decidingEngine.allowsRunWith(owner, pipeline, approvals)) {
    if (await jobRepository.transition(db, jobId, 'awaiting_approval', 'queued')) await dispatch(db, queue, jobId);
    const after = await jobRepository.find(db, jobId);
    return { state: after?.state ?? 'queued', approvals, approvalsRequired: job.approvals_required };
  }
  return { state: 'awaiting_approval', approvals, approvalsRequired: job.approvals_required };
}

/** An officer rejects a job waiting for approval; the reason is required and shown to the requester. */
export async function rejectJob(db: Db, officer: SessionUser, jobId: string, reason: string): Promise<{ state: string }> {
  if (reason.trim().length === 0) throw new LabError('LAB-E135', { field: 'reason' });
  const job = await jobForOfficer(db, officer, jobId, 'job.approve');
  if (job.state !== 'awaiting_approval') throw new LabError('LAB-E134', { detail: t(`任务状态为 ${job.state}`, `the job is ${job.state}`) });
  const engine = await activePolicy(db);
  await approvalRepository.insert(db.kysely, { jobId, officerId: officer.id, decision: 'reject', reason, boundHash: job.bound_hash ?? '', policyVersion: engine.version, expiresAt: new Date() });
  if (!(await jobRepository.transition(db, jobId, 'awaiting_approval', 'rejected', { code: 'LAB-E134', zh: `审批未通过：${reason}`, en: `not approved: ${reason}`, reason }))) {
    throw new LabError('LAB-E134');
  }
  await auditTrailOf(db).append({ actor: userActor(officer), action: 'approval.reject', resource: { type: 'job', id: jobId }, decision: 'deny', policyVersion: engine.version, pipelineHash: job.spec_hash, detail: { reason: reason.slice(0, 500) } });
  return { state: 'rejected' };
}

/**
 * Output review of a researcher's finished job (pending → released | returned | rejected). Nothing
 * of the job's tables reaches the researcher before `released`. Returned and rejected need a reason.
 */
export async function reviewJob(db: Db, officer: SessionUser, jobId: string, to: Exclude<ReviewState, 'pending'>, reason: string): Promise<{ reviewState: ReviewState }> {
  if (to !== 'released' && reason.trim().length === 0) throw new LabError('LAB-E135', { field: 'reason' });
  const job = await jobForOfficer(db, officer, jobId, 'output.review');
  if (job.review_state !== 'pending') throw new LabError('LAB-E134', { detail: t('该任务不在待审核状态', 'the job is not waiting for review') });
  if (!(await jobRepository.setReviewState(db, jobId, 'pending', to))) throw new LabError('LAB-E134');
  await approvalRepository.review(db.kysely, { jobId, reviewerId: officer.id, from: 'pending', to, reason });
  await auditTrailOf(db).append({
    actor: userActor(officer), action: `review.${to}`, resource: { type: 'job', id: jobId }, decision: to === 'released' ? 'allow' : 'deny',
    policyVersion: job.policy_version, pipelineHash: job.spec_hash, detail: { from: 'pending', to, reason: reason.slice(0, 500) },
  });
  return { reviewState: to };
}

/** The officer's inbox: jobs waiting for approval and outputs waiting for review (never their own). */
export async function officerInbox(db: Db, officer: SessionUser) {
  const engine = await activePolicy(db);
  const list = engine.decide(principalOf(officer), 'approval.list', { type: 'Service', id: 'approvals' });
  if (list.decision !== 'allow') throw new LabError('LAB-E137');
  const names = new Map<number, string>();
  const nameOf = async (id: number) => {
    if (!names.has(id)) names.set(id, (await findUserById(db.kysely, id))?.display_name ?? '');
    return names.get(id) ?? '';
  };
  const shape = async (j: JobRow) => ({
    jobId: j.id, pipelineId: j.pipeline_id, ownerId: j.owner_id, requester: await nameOf(j.owner_id), requesterRole: j.requester_role, createdAt: j.created_at.toISOString(),
    maxLevel: j.max_level, domains: j.domains, approvalsRequired: j.approvals_required, projectId: j.project_id, epsilon: j.epsilon,
    decision: j.decision, policyVersion: j.policy_version,
  });
  const approvals = await Promise.all((await jobRepository.awaiting(db)).filter((j) => j.owner_id !== officer.id).map(shape));
  const reviews = await Promise.all((await jobRepository.pendingReview(db)).filter((j) => j.owner_id !== officer.id).map(shape));
  return { approvals, reviews };
}
