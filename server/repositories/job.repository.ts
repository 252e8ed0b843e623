import type { Kysely } from 'kysely';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema, JobState, ReviewState } from '../db/control.schema.ts';
import { jsonb } from './jsonb.ts';

type Db = Database<ControlSchema>;

export interface NewJob {
  id: string; pipelineId: string; ownerId: number; spec: unknown; specHash: string; state: JobState;
  requesterRole: string; policyVersion: number; decision: unknown; boundHash: string; approvalsRequired: number;
  maxLevel: number; domains: readonly string[]; projectId: string | null; epsilon: string | null;
}

export const pipelineRepository = {
  insert: (db: Db, row: { id: string; ownerId: number; name: string; spec: unknown; specHash: string }) =>
    db.kysely.insertInto('pipeline').values({ id: row.id, owner_id: row.ownerId, name: row.name, spec: jsonb(row.spec), spec_hash: row.specHash }).execute(),
  /** A pipeline that is not deleted. */
  find: (db: Db, id: string) => db.kysely.selectFrom('pipeline').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst(),
  listByOwner: (db: Db, ownerId: number) =>
    db.kysely.selectFrom('pipeline').select(['id', 'name', 'spec_hash', 'created_at', 'updated_at']).where('owner_id', '=', ownerId).where('deleted_at', 'is', null).orderBy('updated_at', 'desc').limit(500).execute(),
  /** Each pipeline's job count and newest job (for the list of a user's pipelines). */
  jobSummaries: (db: Db, pipelineIds: readonly string[]) =>
    pipelineIds.length === 0 ? Promise.resolve([]) : db.kysely.selectFrom('job').select((eb) => ['pipeline_id', eb.fn.countAll<string>().as('jobs'), eb.fn.max('created_at').as('last_run')])
      .where('pipeline_id', 'in', pipelineIds).groupBy('pipeline_id').execute(),
};

export const jobRepository = {
  /** Creates the job, its stages and its first event in one transaction. */
  create: (db: Db, job: NewJob, stages: readonly { id: string; domain: string }[]) =>
    db.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('job').values({
        id: job.id, pipeline_id: job.pipelineId, owner_id: job.ownerId, spec: jsonb(job.spec), spec_hash: job.specHash, state: job.state,
        requester_role: job.requesterRole, policy_version: job.policyVersion, decision: jsonb(job.decision), bound_hash: job.boundHash,
        approvals_required: job.approvalsRequired, max_level: job.maxLevel, domains: jsonb(job.domains), project_id: job.projectId, epsilon: job.epsilon,
      }).execute();
      if (stages.length) await trx.insertInto('job_stage').values(stages.map((s) => ({ job_id: job.id, stage_id: s.id, domain: s.domain, state: 'queued' as const }))).execute();
      await trx.insertInto('job_event').values({ job_id: job.id, kind: 'state', data: jsonb({ state: job.state, stages: stages.map((s) => ({ id: s.id, domain: s.domain, state: 'queued' })) }) }).execute();
    }),
  /** Moves a job from `from` to `to` (false when it was not in `from`: another request got there first). */
  transition: (db: Db, jobId: string, from: JobState, to: JobState, error?: unknown) =>
    db.kysely.transaction().execute(async (trx) => {
      const r = await trx.updateTable('job')
        .set({ state: to, ...(error !== undefined ? { error: jsonb(error) } : {}), ...(to === 'rejected' || to === 'cancelled' || to === 'failed' ? { finished_at: new Date() } : {}) })
        .where('id', '=', jobId).where('state', '=', from).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      if (to === 'rejected' || to === 'cancelled' || to === 'failed') await trx.updateTable('job_stage').set({ state: 'cancelled', finished_at: new Date() }).where('job_id', '=', jobId).where('state', '=', 'queued').execute();
      await trx.insertInto('job_event').values({ job_id: jobId, kind: 'state', data: jsonb({ state: to, ...(error !== undefined ? { error } : {}) }) }).execute();
      return true;
    }),
  /** A queued job that cannot run after all (e.g. its privacy budget ran out): failed with the reason. */
  refuse: (db: Db, jobId: string, error: { code: string; zh: string; en: string }) => jobRepository.transition(db, jobId, 'queued', 'failed', error),
  setReviewState: (db: Db, jobId: string, from: ReviewState | null, to: ReviewState) =>
    db.kysely.updateTable('job').set({ review_state: to }).where('id', '=', jobId)
      .where((eb) => (from === null ? eb('review_state', 'is', null) : eb('review_state', '=', from))).executeTakeFirst()
      .then((r) => Number(r.numUpdatedRows) > 0),
  /**
   * Jobs for a list, newest first: the owner's own, plus (`othersToo`) the newest of everyone, which
   * the caller filters by policy. With the owner's name and the pipeline's name; never the results.
   */
  list: (db: Db, ownerId: number, othersToo: boolean, limit: number) =>
    db.kysely.selectFrom('job').innerJoin('app_user', 'app_user.id', 'job.owner_id').leftJoin('pipeline', 'pipeline.id', 'job.pipeline_id')
      .select(['job.id', 'job.pipeline_id', 'job.owner_id', 'job.state', 'job.review_state', 'job.requester_role', 'job.created_at', 'job.finished_at',
        'job.max_level', 'job.domains', 'job.approvals_required', 'job.project_id', 'job.epsilon', 'job.policy_version', 'job.spec_hash',
        'app_user.display_name as owner_name', 'pipeline.name as pipeline_name'])
      .$if(!othersToo, (q) => q.where('job.owner_id', '=', ownerId))
      .orderBy('job.created_at', 'desc').orderBy('job.id').limit(limit).execute(),
  awaiting: (db: Db) => db.kysely.selectFrom('job').selectAll().where('state', '=', 'awaiting_approval').orderBy('created_at').limit(500).execute(),
  pendingReview: (db: Db) => db.kysely.selectFrom('job').selectAll().where('review_state', '=', 'pending').orderBy('created_at').limit(500).execute(),
  find: (db: Db, id: string) => db.kysely.selectFrom('job').selectAll().where('id', '=', id).executeTakeFirst(),
  stages: (db: Db, jobId: string) =>
    db.kysely.selectFrom('job_stage').select(['stage_id', 'domain', 'state', 'error', 'finished_at']).where('job_id', '=', jobId).orderBy('stage_id').execute(),
  /** Released tables of a job's stages; protocol steps (`<protocol>~<node>`: their row holds progress, not a table) left out. */
  results: (db: Db, jobId: string) =>
    db.kysely.selectFrom('job_stage').select(['stage_id', 'domain', 'result']).where('job_id', '=', jobId).where('state', '=', 'succeeded')
      .where('stage_id', 'not like', '%~%').orderBy('stage_id').execute(),
  /**
   * Records a stage's end (only while it is still open: a late or repeated delivery changes
   * nothing), then closes the job when no stage is open. Returns the job's state afterwards.
   */
  finishStage: (db: Db, jobId: string, stageId: string, outcome: StageEnd) =>
    db.kysely.transaction().execute((trx) => recordStageEnd(trx, jobId, stageId, outcome)).then((r) => r.state),
  /** `finishStage` inside the caller's transaction, also saying whether this delivery was the one recorded. */
  recordStageEnd: (trx: Kysely<ControlSchema>, jobId: string, stageId: string, outcome: StageEnd) => recordStageEnd(trx, jobId, stageId, outcome),
  /**
   * Stages the control database still counts as open (queued or running) of jobs still queued or
   * running: what the domains owe an answer for. Oldest job first.
   */
  openStages: (db: Db) =>
    db.kysely.selectFrom('job_stage').innerJoin('job', 'job.id', 'job_stage.job_id')
      .select(['job_stage.job_id', 'job_stage.stage_id', 'job_stage.domain'])
      .where('job.state', 'in', ['queued', 'running']).where('job_stage.state', 'in', ['queued', 'running'])
      .orderBy('job.created_at').orderBy('job_stage.job_id').orderBy('job_stage.stage_id').limit(10_000).execute(),
  cancel: (db: Db, jobId: string) =>
    db.kysely.transaction().execute(async (trx) => {
      const job = await trx.selectFrom('job').select(['state']).where('id', '=', jobId).forUpdate().executeTakeFirst();
      if (!job || (job.state !== 'queued' && job.state !== 'running' && job.state !== 'awaiting_approval')) return job?.state;
      await trx.updateTable('job').set({ state: 'cancelled', finished_at: new Date() }).where('id', '=', jobId).execute();
      await trx.updateTable('job_stage').set({ state: 'cancelled', finished_at: new Date() }).where('job_id', '=', jobId).where('state', 'in', ['queued', 'running']).execute();
      await trx.insertInto('job_event').values({ job_id: jobId, kind: 'state', data: jsonb({ state: 'cancelled' }) }).execute();
      return 'cancelled' as const;
    }),
  eventsAfter: (db: Db, jobId: string, afterId: number) =>
    db.kysely.selectFrom('job_event').select(['id', 'kind', 'data']).where('job_id', '=', jobId).where('id', '>', afterId).orderBy('id').limit(200).execute(),
};

export type StageEnd = { state: 'succeeded'; result: unknown } | { state: 'failed'; error: unknown };

async function recordStageEnd(trx: Kysely<ControlSchema>, jobId: string, stageId: string, outcome: StageEnd): Promise<{ recorded: boolean; state: JobState | undefined }> {
  const job = await trx.selectFrom('job').select(['state', 'requester_role']).where('id', '=', jobId).forUpdate().executeTakeFirst();
  if (!job || job.state === 'cancelled' || job.state === 'failed' || job.state === 'succeeded') return { recorded: false, state: job?.state };
  const updated = await trx.updateTable('job_stage')
    .set(outcome.state === 'succeeded'
      ? { state: 'succeeded', result: jsonb(outcome.result), finished_at: new Date() }
      : { state: 'failed', error: jsonb(outcome.error), finished_at: new Date() })
    .where('job_id', '=', jobId).where('stage_id', '=', stageId).where('state', 'in', ['queued', 'running'])
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return { recorded: false, state: job.state };
  const stages = await trx.selectFrom('job_stage').select(['stage_id', 'domain', 'state']).where('job_id', '=', jobId).execute();
  let next: JobState = 'running';
  if (outcome.state === 'failed') next = 'failed';
  else if (stages.every((s) => s.state === 'succeeded')) next = 'succeeded';
  const closing = next !== 'running';
  // A researcher's output waits for an officer's review before it is released (Airlock-like).
  const review = next === 'succeeded' && job.requester_role === 'researcher' ? { review_state: 'pending' as const } : {};
  await trx.updateTable('job').set({ state: next, ...review, ...(outcome.state === 'failed' ? { error: jsonb(outcome.error) } : {}), ...(closing ? { finished_at: new Date() } : {}) }).where('id', '=', jobId).execute();
  if (next === 'failed') await trx.updateTable('job_stage').set({ state: 'cancelled', finished_at: new Date() }).where('job_id', '=', jobId).where('state', 'in', ['queued', 'running']).execute();
  await trx.insertInto('job_event').values({ job_id: jobId, kind: 'stage', data: jsonb({ stage: stageId, state: outcome.state, ...(outcome.state === 'failed' ? { error: outcome.error } : {}) }) }).execute();
  await trx.insertInto('job_event').values({ job_id: jobId, kind: 'state', data: jsonb({ state: next, stages: stages.map((s) => ({ id: s.stage_id, domain: s.domain, state: s.stage_id === stageId ? outcome.state : s.state })) }) }).execute();
  return { recorded: true, state: next };
}
