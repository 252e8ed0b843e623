import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DOMAIN_IDS, isDomainId } from '../../sandbox/domains/domain-ids.ts';
import { DEFAULT_STAFF_PARAMS } from '../../sandbox/disclosure/guard-params.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { planPipeline } from '../../sandbox/plan/planner.ts';
import { validatePipeline, type ValidPipeline } from '../../sandbox/pipeline/validate.ts';
import type { DeliveryResult, QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import type { StageOutcome } from '../../sandbox/runtime/worker/stage-outcome.ts';
import type { StagePayload } from '../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { jobRepository, pipelineRepository } from '../repositories/job.repository.ts';
import type { SessionUser } from './auth.service.ts';

type Db = Database<ControlSchema>;

/** Canonical JSON (sorted keys) and its SHA-256: the identity of a pipeline document. */
export function specHash(spec: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canon(x)]));
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canon(spec))).digest('hex');
}

function validOrThrow(doc: unknown): ValidPipeline {
  const v = validatePipeline(doc);
  if (!v.ok) throw v.errors[0] ?? new LabError('LAB-E003');
  return v.pipeline;
}

/** Staff rules apply to staff; researchers need the differential-privacy path, which is not built yet. */
function mayRun(user: SessionUser): void {
  if (user.role === 'researcher') {
    throw new LabError('LAB-E012', {
      detail: t('研究人员的结果需经差分隐私与审核发布，该流程尚未开放', 'researcher results need differential privacy and output review, which are not available yet'),
    });
  }
}

/** Saves a pipeline the caller has validated (the route needs the full error list, so it validates). */
export async function savePipeline(db: Db, user: SessionUser, p: ValidPipeline): Promise<{ id: string }> {
  const id = randomUUID();
  await pipelineRepository.insert(db, { id, ownerId: user.id, name: p.spec.name, spec: p.spec, specHash: specHash(p.spec) });
  return { id };
}

/** A pipeline the user may see: their own; officers and admins see all. Others: 404 (existence is not confirmed). */
export async function pipelineFor(db: Db, user: SessionUser, id: string) {
  const row = await pipelineRepository.find(db, id);
  if (!row || (row.owner_id !== user.id && user.role !== 'officer' && user.role !== 'admin')) {
    throw new LabError('LAB-E004', { detail: t('流程不存在', 'no such pipeline') });
  }
  return row;
}

export async function jobFor(db: Db, user: SessionUser, id: string) {
  const row = await jobRepository.find(db, id);
  if (!row || (row.owner_id !== user.id && user.role !== 'officer' && user.role !== 'admin')) {
    throw new LabError('LAB-E004', { detail: t('任务不存在', 'no such job') });
  }
  return row;
}

/** Validates and plans the saved document again, records the job and its stages, then enqueues. */
export async function startRun(db: Db, queue: QueueDriver, user: SessionUser, pipelineId: string): Promise<{ jobId: string }> {
  mayRun(user);
  const row = await pipelineFor(db, user, pipelineId);
  const p = validOrThrow(row.spec);
  const plan = planPipeline(p);
  const jobId = randomUUID();
  const stages = plan.stages.map((s) => {
    if (s.kind !== 'domain') throw new LabError('LAB-E067');
    return { id: s.id, domain: s.domain };
  });
  await jobRepository.create(db, { id: jobId, pipelineId, ownerId: user.id, spec: p.spec, specHash: specHash(p.spec) }, stages);
  for (const s of plan.stages) {
    if (s.kind !== 'domain') continue;
    const payload: StagePayload = { jobId, stageId: s.id, pipeline: p.spec, guard: DEFAULT_STAFF_PARAMS };
    await queue.enqueue({ key: `${jobId}.${s.id}`, domain: s.domain, payload }, { attempts: 3, backoffMs: 1000 });
  }
  return { jobId };
}

/** Tells the queue to drop or stop every stage of a (cancelled) job, in whichever domain it is. */
export async function cancelStages(db: Db, queue: QueueDriver, jobId: string): Promise<void> {
  for (const s of await jobRepository.stages(db, jobId)) {
    if (isDomainId(s.domain)) await queue.cancel(s.domain, `${jobId}.${s.stage_id}`);
  }
}

/** Hears the domains' answers and records them (the coordinator never sees anything else of a domain). */
export async function listenForResults(db: Db, queue: QueueDriver, logger: Logger): Promise<void> {
  await queue.onResult(DOMAIN_IDS, (r: DeliveryResult) => {
    const dot = r.key.lastIndexOf('.');
    if (dot < 0) return;
    const jobId = r.key.slice(0, dot);
    const stageId = r.key.slice(dot + 1);
    const outcome = r.ok ? (r.value as StageOutcome) : undefined;
    const record = outcome?.ok
      ? jobRepository.finishStage(db, jobId, stageId, { state: 'succeeded', result: outcome.table })
      : jobRepository.finishStage(db, jobId, stageId, {
        state: 'failed',
        error: outcome && !outcome.ok ? outcome.error
          : { code: 'LAB-E020', zh: '数据域执行失败，已重试', en: 'the domain could not run the stage after retries' },
      });
    record.then(
      (state) => { logger.info({ jobId, stageId, domain: r.domain, ok: r.ok && outcome?.ok === true, state }, 'stage result recorded'); },
      (e: unknown) => { logger.error({ err: e, jobId, stageId }, 'could not record a stage result'); },
    );
  });
}
