import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema, JobState, ReviewState } from '../db/control.schema.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { Resource } from '../../policies/engine.ts';
import { jobRepository, pipelineRepository } from '../repositories/job.repository.ts';
import { jsonb } from '../repositories/jsonb.ts';
import { auditTrailOf, userActor } from './audit.service.ts';
import type { SessionUser } from './auth.service.ts';
import { jobResource, pipelineFor, specHash } from './job.service.ts';
import { activePolicy, authorize, principalOf } from './policy.service.ts';

type Db = Database<ControlSchema>;

const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

export interface PipelineListItem {
  id: string; name: string; specHash: string; createdAt: string; updatedAt: string;
  jobs: number; lastRunAt: string | null;
}

/** The caller's own pipelines, newest change first (policy `pipeline.list`: staff and researchers). */
export async function listPipelines(db: Db, user: SessionUser): Promise<PipelineListItem[]> {
  await authorize(db, user, 'pipeline.list', { type: 'Service', id: 'pipelines' });
  const rows = await pipelineRepository.listByOwner(db, user.id);
  const summaries = new Map((await pipelineRepository.jobSummaries(db, rows.map((r) => r.id))).map((s) => [s.pipeline_id, s]));
  return rows.map((r) => {
    const s = summaries.get(r.id);
    return {
      id: r.id, name: r.name, specHash: r.spec_hash, createdAt: iso(r.created_at) ?? '', updatedAt: iso(r.updated_at) ?? '',
      jobs: Number(s?.jobs ?? 0), lastRunAt: iso(s?.last_run as Date | string | null | undefined),
    };
  });
}

/** One of the caller's pipelines with its document (policy `pipeline.read`; others 404). */
export async function readPipeline(db: Db, user: SessionUser, id: string) {
  const row = await pipelineFor(db, user, id);
  return { id: row.id, name: row.name, specHash: row.spec_hash, createdAt: iso(row.created_at) ?? '', updatedAt: iso(row.updated_at) ?? '', spec: row.spec };
}

export interface JobListItem {
  id: string; pipelineId: string; pipelineName: string | null; owner: string; own: boolean; requesterRole: string | null;
  state: JobState; reviewState: ReviewState | null; createdAt: string; finishedAt: string | null;
  maxLevel: number | null; domains: string[]; approvalsRequired: number; projectId: string | null; epsilon: string | null; policyVersion: number | null;
}

/** How many jobs a list holds at most. */
export const JOB_LIST_LIMIT = 200;

/**
 * Jobs the caller may read (policy `job.read`, decided per job by the policy in force): their own,
 * and for officers everyone's. Newest first, at most JOB_LIST_LIMIT; never results or documents.
 */
export async function listJobs(db: Db, user: SessionUser): Promise<JobListItem[]> {
  const engine = await activePolicy(db);
  const principal = principalOf(user);
  const own = await jobRepository.list(db, user.id, false, JOB_LIST_LIMIT);
  const newest = await jobRepository.list(db, user.id, true, JOB_LIST_LIMIT);
  const seen = new Set<string>();
  const out: JobListItem[] = [];
  for (const j of [...own, ...newest]) {
    if (seen.has(j.id)) continue;
    seen.add(j.id);
    if (engine.decide(principal, 'job.read', jobResource(j)).decision !== 'allow') continue;
    out.push({
      id: j.id, pipelineId: j.pipeline_id, pipelineName: j.pipeline_name, owner: j.owner_name, own: j.owner_id === user.id, requesterRole: j.requester_role,
      state: j.state, reviewState: j.review_state, createdAt: iso(j.created_at) ?? '', finishedAt: iso(j.finished_at),
      maxLevel: j.max_level, domains: Array.isArray(j.domains) ? j.domains.filter((d): d is string => typeof d === 'string') : [],
      approvalsRequired: j.approvals_required, projectId: j.project_id, epsilon: j.epsilon, policyVersion: j.policy_version,
    });
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id)).slice(0, JOB_LIST_LIMIT);
}

/** The pipeline as the policy sees it for rename and delete (owner checks only: nothing is read). */
const manageResource = (row: { id: string; owner_id: number }): Resource => ({ type: 'Pipeline', id: row.id, ownerId: row.owner_id, maxLevel: 1, domainCount: 1 });

/**
 * Renames one of the caller's pipelines (policy `pipeline.rename`: the owner). The name is part of
 * the document, so the saved document's `name` and hash change with it; jobs keep the snapshot
 * they ran. Others' pipelines are 404 (their existence is not confirmed). Audited.
 */
export async function renamePipeline(db: Db, user: SessionUser, id: string, name: string): Promise<PipelineListItem> {
  const row = await pipelineFor(db, user, id);
  await authorize(db, user, 'pipeline.rename', manageResource(row), { secretExistence: true });
  const spec = { ...(row.spec as Record<string, unknown>), name };
  const hash = specHash(spec);
  await db.kysely.transaction().execute(async (trx) => {
    await trx.updateTable('pipeline').set({ name, spec: jsonb(spec), spec_hash: hash, updated_at: new Date() }).where('id', '=', id).where('deleted_at', 'is', null).execute();
    await auditTrailOf(db).append({ actor: userActor(user), action: 'pipeline.rename', resource: { type: 'pipeline', id }, pipelineHash: hash, detail: { from: row.name.slice(0, 200), to: name } }, trx);
  });
  const [item] = (await listPipelines(db, user)).filter((p) => p.id === id);
  if (!item) throw new LabError('LAB-E004', { detail: t('流程不存在', 'no such pipeline') });
  return item;
}

/**
 * Deletes one of the caller's pipelines (policy `pipeline.delete`: the owner). One that never ran
 * is removed; one with jobs is kept for the audit trail, hidden from the list and no longer opened,
 * renamed or run — its jobs stay readable (they carry their own snapshot). Audited either way.
 */
export async function deletePipeline(db: Db, user: SessionUser, id: string): Promise<{ id: string; kept: boolean }> {
  const row = await pipelineFor(db, user, id);
  await authorize(db, user, 'pipeline.delete', manageResource(row), { secretExistence: true });
  return db.kysely.transaction().execute(async (trx) => {
    const removed = await trx.deleteFrom('pipeline').where('id', '=', id)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('job').select('job.id').where('job.pipeline_id', '=', id)))).executeTakeFirst();
    const kept = Number(removed.numDeletedRows) === 0;
    if (kept) await trx.updateTable('pipeline').set({ deleted_at: new Date() }).where('id', '=', id).where('deleted_at', 'is', null).execute();
    await auditTrailOf(db).append({ actor: userActor(user), action: 'pipeline.delete', resource: { type: 'pipeline', id }, pipelineHash: row.spec_hash, detail: { name: row.name.slice(0, 200), kept } }, trx);
    return { id, kept };
  });
}
