import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DOMAIN_IDS, isDomainId } from '../../sandbox/domains/domain-ids.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { div, formatRational, parseRational, rational } from '../../sandbox/dp/rational.ts';
import { planReads, type PlanReads } from '../../sandbox/plan/levels.ts';
import { planPipeline } from '../../sandbox/plan/planner.ts';
import { canonicalJson, type Decision, type Resource } from '../../policies/engine.ts';
import { validatePipeline, type ValidPipeline } from '../../sandbox/pipeline/validate.ts';
import type { DeliveryResult, QueueDriver, StageMessage } from '../../sandbox/runtime/queue/queue-driver.ts';
import type { StageOutcome } from '../../sandbox/runtime/worker/stage-outcome.ts';
import type { StagePayload } from '../../sandbox/runtime/worker/stage-executor.ts';
import { isProtocolStepId } from '../../sandbox/plan/planner.ts';
import { advanceJob, endSteps, hasProtocolSteps, parseStepDeliveryKey, recoverSteps, relayProtocolSteps, waitingOnSteps, withoutSteps } from './protocol-step.service.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema, JobState } from '../db/control.schema.ts';
import { budgetRepository } from '../repositories/budget.repository.ts';
import { jobRepository, pipelineRepository, type StageEnd } from '../repositories/job.repository.ts';
import { SYSTEM_ACTOR, auditTrailOf, userActor } from './audit.service.ts';
import type { SessionUser } from './auth.service.ts';
import { activePolicy, authorize, decide, policyVersion, principalOf } from './policy.service.ts';

type Db = Database<ControlSchema>;

/** Canonical JSON (sorted keys, policies/engine.ts) and its SHA-256: the identity of a pipeline document. */
export function specHash(spec: unknown): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

function validOrThrow(doc: unknown): ValidPipeline {
  const v = validatePipeline(doc);
  if (!v.ok) throw v.errors[0] ?? new LabError('LAB-E003');
  return v.pipeline;
}

/** Saves a pipeline the caller has validated (the route needs the full error list, so it validates). */
export async function savePipeline(db: Db, user: SessionUser, p: ValidPipeline): Promise<{ id: string }> {
  const id = randomUUID();
  const hash = specHash(p.spec);
  await pipelineRepository.insert(db, { id, ownerId: user.id, name: p.spec.name, spec: p.spec, specHash: hash });
  await auditTrailOf(db).append({ actor: userActor(user), action: 'pipeline.save', resource: { type: 'pipeline', id }, pipelineHash: hash, detail: { nodes: p.spec.nodes.length } });
  return { id };
}

/** A pipeline the user may see (policy `pipeline.read`); others get 404: existence is not confirmed. */
export async function pipelineFor(db: Db, user: SessionUser, id: string) {
  const row = await pipelineRepository.find(db, id);
  const resource: Resource | undefined = row && { type: 'Pipeline', id: row.id, ownerId: row.owner_id, maxLevel: 1, domainCount: 1 };
  if (!row || !resource || (await decide(db, user, 'pipeline.read', resource)).decision !== 'allow') {
    throw new LabError('LAB-E004', { detail: t('流程不存在', 'no such pipeline') });
  }
  return row;
}

export type JobRow = NonNullable<Awaited<ReturnType<typeof jobRepository.find>>>;

/** The job as a policy resource. Released: staff jobs when finished; researchers' after review. */
export function jobResource(job: Pick<JobRow, 'id' | 'owner_id' | 'requester_role' | 'review_state' | 'state' | 'domains' | 'max_level'>): Resource {
  const ownerRole = (job.requester_role ?? 'analyst') as 'analyst' | 'officer' | 'researcher' | 'steward' | 'admin';
  const released = ownerRole === 'researcher' ? job.review_state === 'released' : job.state === 'succeeded';
  const domains = Array.isArray(job.domains) ? job.domains.length : 1;
  return { type: 'Job', id: job.id, ownerId: job.owner_id, ownerRole, maxLevel: job.max_level ?? 4, domainCount: domains, released };
}

/**
 * A job the user may see (policy `job.read`; others get 404), then `action` decided by the policy
 * in force (403 LAB-E137). A result that is not released yet is 409 LAB-E071 for its owner.
 */
export async function jobFor(db: Db, user: SessionUser, id: string, action: 'job.read' | 'job.cancel' | 'result.read' | 'result.export' = 'job.read'): Promise<JobRow> {
  return (await jobAccess(db, user, id, action)).job;
}

/** `jobFor`, also giving the policy decision on `action` (null for a plain `job.read`). */
export async function jobAccess(db: Db, user: SessionUser, id: string, action: 'job.read' | 'job.cancel' | 'result.read' | 'result.export'): Promise<{ job: JobRow; decision: Decision | null }> {
  const row = await jobRepository.find(db, id);
  if (!row || (await decide(db, user, 'job.read', jobResource(row))).decision !== 'allow') {
    throw new LabError('LAB-E004', { detail: t('任务不存在', 'no such job') });
  }
  if (action === 'job.read') return { job: row, decision: null };
  const resource = jobResource(row);
  if ((action === 'result.read' || action === 'result.export') && resource.type === 'Job' && !resource.released && row.owner_id === user.id) {
    const why = row.review_state === 'pending' ? t('结果待审核', 'the output is waiting for review')
      : row.review_state ? t(`审核结果：${row.review_state}`, `review outcome: ${row.review_state}`) : t(`任务状态为 ${row.state}`, `the job is ${row.state}`);
    throw new LabError('LAB-E071', { detail: why });
  }
  const decision = await authorize(db, user, action, resource);
  return { job: row, decision };
}

/** Cancels a queued, waiting or running job (policy `job.cancel`) and stops its stages in the domains. */
export async function cancelJob(db: Db, queue: QueueDriver | undefined, user: SessionUser, id: string): Promise<{ state: JobState }> {
  const { job, decision } = await jobAccess(db, user, id, 'job.cancel');
  const state = await jobRepository.cancel(db, job.id);
  await auditTrailOf(db).append({
    actor: userActor(user), action: 'job.cancel', resource: { type: 'job', id: job.id }, decision: decision?.decision ?? null,
    policyVersion: decision?.policyVersion ?? null, pipelineHash: job.spec_hash, detail: { from: job.state, to: state ?? job.state },
  });
  // The stages still waiting are dropped and a running one is stopped inside its domain; a late
  // answer is ignored either way (the job is cancelled in the control database first).
  if (state === 'cancelled' && queue) await cancelStages(db, queue, job.id);
  return { state: state ?? job.state };
}

/** The released tables of a finished job (policy `result.read`); every read is recorded. */
export async function readResult(db: Db, user: SessionUser, id: string) {
  const { job, decision } = await jobAccess(db, user, id, 'result.read');
  if (job.state !== 'succeeded') {
    throw new LabError('LAB-E071', { detail: t(`任务状态为 ${job.state}`, `the job is ${job.state}`) });
  }
  const rows = withoutSteps(await jobRepository.results(db, job.id));
  await auditTrailOf(db).append({
    actor: userActor(user), action: 'job.result.read', resource: { type: 'job', id: job.id }, decision: decision?.decision ?? null,
    policyVersion: decision?.policyVersion ?? null, pipelineHash: job.spec_hash, detail: { tables: rows.length },
  });
  return { job, rows };
}

export interface RunOptions {
  /** Researchers: the project whose privacy budget pays for the run (their only project when omitted). */
  readonly projectId?: string | undefined;
}

/**
 * What an approval is bound to: the exact document, the guard parameters the domains will apply,
 * the datasets read, the policy version and bundle, the requester, and (researchers) project and ε.
 * Any change gives another hash, and approvals given for the old one no longer count.
 */
export function runBinding(x: { specHash: string; guard: unknown; datasets: readonly string[]; policyVersion: number; policyHash: string; requesterId: number; projectId: string | null; epsilon: string | null }): string {
  return createHash('sha256').update(canonicalJson({ ...x, datasets: [...x.datasets].sort() })).digest('hex');
}

function pipelineResource(id: string, ownerId: number, reads: PlanReads): Resource {
  return { type: 'Pipeline', id, ownerId, maxLevel: reads.maxLevel, domainCount: reads.domains.length };
}

/**
 * Runs a saved pipeline: validates and plans the document again, asks the policy in force, and
 * records the job with the decision. Allowed: queued at once. Needs approval: the job waits for
 * officers (approval.service). Denied: 403 LAB-E137 and nothing recorded but the audit entry.
 */
export async function startRun(db: Db, queue: QueueDriver, user: SessionUser, pipelineId: string, options: RunOptions = {}): Promise<{ jobId: string; state: JobState; approvalsRequired: number }> {
  const row = await pipelineFor(db, user, pipelineId);
  const p = validOrThrow(row.spec);
  const plan = planPipeline(p);
  const reads = planReads(plan);
  const engine = await activePolicy(db);
  const decision = engine.decide(principalOf(user), 'pipeline.run', pipelineResource(pipelineId, row.owner_id, reads));
  const decided = { actor: userActor(user), decision: decision.decision, policyVersion: decision.policyVersion, pipelineHash: specHash(p.spec) } as const;
  if (decision.decision === 'deny') {
    await auditTrailOf(db).append({ ...decided, action: 'pipeline.run', resource: { type: 'pipeline', id: pipelineId }, detail: { policies: [...decision.policies], maxLevel: reads.maxLevel } });
    throw new LabError('LAB-E137', {
      detail: t(`策略 v${decision.policyVersion} 不允许运行该流程（读取的最高密级 L${reads.maxLevel}）`, `policy v${decision.policyVersion} does not allow this run (highest classification read: L${reads.maxLevel})`),
    });
  }
  const researcher = user.role === 'researcher';
  // Row-level follow-up lists are for staff work; a researcher's release is aggregate only (DP).
  const followUp = plan.stages.find((s) => s.kind === 'follow-up');
  if (researcher && followUp) {
    throw new LabError('LAB-E165', { detail: t('研究人员的任务不能生成随访名单', 'a researcher\u2019s job cannot write a follow-up list'), nodeId: followUp.id });
  }
  const projectId = researcher ? await researcherProject(db, user, options.projectId) : null;
  const epsilon = researcher ? engine.params.dp.defaultEpsilon : null;
  const guard = researcher ? engine.params.researcher : engine.params.staff;
  const jobId = randomUUID();
  const hash = specHash(p.spec);
  const boundHash = runBinding({ specHash: hash, guard, datasets: plan.datasets, policyVersion: engine.version, policyHash: engine.hash, requesterId: user.id, projectId, epsilon });
  const state: JobState = decision.decision === 'allow' ? 'queued' : 'awaiting_approval';
  // A protocol step is kept as a stage row under its receiver's domain (its progress in `result`).
  const stages = plan.stages.map((s) => ({ id: s.id, domain: s.kind === 'protocol' ? s.receiver : s.domain }));
  await jobRepository.create(db, {
    id: jobId, pipelineId, ownerId: user.id, spec: p.spec, specHash: hash, state,
    requesterRole: user.role, policyVersion: engine.version, decision, boundHash,
    approvalsRequired: decision.approvalsRequired, maxLevel: reads.maxLevel, domains: reads.domains, projectId, epsilon,
  }, stages);
  await auditTrailOf(db).append({
    ...decided, action: 'job.run', resource: { type: 'job', id: jobId },
    detail: { pipelineId, state, approvalsRequired: decision.approvalsRequired, policies: [...decision.policies], maxLevel: reads.maxLevel, domains: [...reads.domains], projectId, epsilon },
  });
  if (state === 'queued') await dispatch(db, queue, jobId);
  return { jobId, state, approvalsRequired: decision.approvalsRequired };
}

async function researcherProject(db: Db, user: SessionUser, wanted: string | undefined): Promise<string> {
  const projects = await budgetRepository.projectsOf(db.kysely, user.id);
  if (wanted !== undefined) {
    if (!projects.includes(wanted)) throw new LabError('LAB-E004', { detail: t('没有该项目', 'no such project'), field: 'projectId' });
    return wanted;
  }
  const [only, ...more] = projects;
  if (only === undefined) throw new LabError('LAB-E136', { detail: t('尚未加入任何项目（隐私预算按项目分配）', 'you are in no project (privacy budgets are granted per project)') });
  if (more.length > 0) throw new LabError('LAB-E003', { detail: t('请指明项目', 'say which project'), field: 'projectId' });
  return only;
}

/**
 * Sends an approved (or allowed) job to its domains. Only a job still `queued` in the control
 * database is sent; a researcher's job is charged its ε first, once (dp_charge is keyed by job),
 * atomically (the budget row's CHECK refuses overspending even under concurrent charges).
 */
export async function dispatch(db: Db, queue: QueueDriver, jobId: string): Promise<void> {
  const job = await jobRepository.find(db, jobId);
  if (!job || job.state !== 'queued') return;
  const researcher = job.requester_role === 'researcher';
  if (researcher && job.project_id && job.epsilon) {
    const charged = await budgetRepository.charge(db.kysely, { jobId, userId: job.owner_id, projectId: job.project_id, epsilon: job.epsilon });
    await auditTrailOf(db).append({
      actor: SYSTEM_ACTOR, action: charged ? 'budget.charge' : 'budget.refuse', resource: { type: 'job', id: jobId }, decision: charged ? 'allow' : 'deny',
      policyVersion: job.policy_version, pipelineHash: job.spec_hash, detail: { projectId: job.project_id, userId: job.owner_id, epsilon: job.epsilon },
    });
    if (!charged) {
      await jobRepository.refuse(db, jobId, { code: 'LAB-E136', zh: '隐私预算不足，任务未运行', en: 'privacy budget exhausted; the job did not run' });
      return;
    }
  }
  // With protocol steps: the steps first, each stage once the steps it reads are done.
  if (hasProtocolSteps(job.spec)) await advanceJob(db, queue, jobId, await stageMessages(db, job));
  else for (const msg of await stageMessages(db, job)) await queue.enqueue(msg, STAGE_DELIVERY);
}

/** How a stage is delivered: operational failures are retried twice, after 1 s and 2 s. */
const STAGE_DELIVERY = { attempts: 3, backoffMs: 1000 } as const;

/**
 * The queue messages of a job's stages: the document, the guard parameters of the job's policy
 * version and, for researchers, each stage's share of ε. The same for every sending of the job
 * (first dispatch or recovery), so a stage sent again is the same stage.
 */
async function stageMessages(db: Db, job: JobRow): Promise<StageMessage[]> {
  const engine = await policyVersion(db, job.policy_version ?? 1);
  const researcher = job.requester_role === 'researcher';
  const guard = researcher ? engine.params.researcher : engine.params.staff;
  const stages = (await jobRepository.stages(db, job.id)).filter((s) => !isProtocolStepId(s.stage_id));
  // The job's ε is shared evenly by its stages (each output table is a separate release).
  const perStage = job.epsilon ? formatRational(div(parseRational(job.epsilon, 'epsilon', 'LAB-E120'), rational(BigInt(Math.max(1, stages.length))))) : undefined;
  const dp = researcher && perStage ? { epsilon: perStage, mechanism: engine.params.dp.mechanism } : undefined;
  const out: StageMessage[] = [];
  for (const s of stages) {
    if (!isDomainId(s.domain)) continue;
    const payload: StagePayload = { jobId: job.id, stageId: s.stage_id, pipeline: job.spec, guard, ...(dp ? { dp } : {}) };
    out.push({ key: `${job.id}.${s.stage_id}`, domain: s.domain, payload });
  }
  return out;
}

/** Tells the queue to drop or stop every stage of a (cancelled) job, in whichever domain it is. */
export async function cancelStages(db: Db, queue: QueueDriver, jobId: string): Promise<void> {
  for (const s of await jobRepository.stages(db, jobId)) {
    if (isDomainId(s.domain) && !isProtocolStepId(s.stage_id)) await queue.cancel(s.domain, `${jobId}.${s.stage_id}`);
  }
  // Protocol steps: their deliveries stopped, sessions wiped and members deleted in the domains.
  if (hasProtocolSteps((await jobRepository.find(db, jobId))?.spec)) await endSteps(db, queue, jobId);
}

/** Waits before each new try of recording a stage's answer while the control database is unreachable. */
const RECORD_RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000] as const;

/**
 * Hears the domains' answers and records them (the coordinator never sees anything else of a
 * domain). A stage's end and its audit entry commit together, once: a repeated delivery (a retried
 * recording, a result told again by recovery) records nothing and writes no second entry. While
 * the control database cannot be reached the recording is tried again for about half a minute;
 * after that the stage stays open and the recovery sweep (`keepJobsRecovered`) asks the queue again.
 */
export async function listenForResults(db: Db, queue: QueueDriver, logger: Logger): Promise<void> {
  await relayProtocolSteps(db, queue, logger, async (jobId) => {
    const job = await jobRepository.find(db, jobId);
    return job ? stageMessages(db, job) : [];
  });
  await queue.onResult(DOMAIN_IDS, (r: DeliveryResult) => {
    // Protocol step phases are relayed by protocol-step.service; follow-up reads answer their caller.
    if (parseStepDeliveryKey(r.key) || r.key.startsWith('followup.')) return;
    const dot = r.key.lastIndexOf('.');
    if (dot < 0) return;
    const jobId = r.key.slice(0, dot);
    const stageId = r.key.slice(dot + 1);
    const outcome = r.ok ? (r.value as StageOutcome) : undefined;
    const ok = r.ok && outcome?.ok === true;
    const end: StageEnd = outcome?.ok
      ? { state: 'succeeded', result: outcome.table }
      : {
        state: 'failed',
        error: outcome && !outcome.ok ? outcome.error
          : { code: 'LAB-E020', zh: '数据域执行失败，已重试', en: 'the domain could not run the stage after retries' },
      };
    const record = () => db.kysely.transaction().execute(async (trx) => {
      const done = await jobRepository.recordStageEnd(trx, jobId, stageId, end);
      // The guarded table (or the failure) as the coordinator received it: what was released, when.
      if (done.recorded) {
        await auditTrailOf(db).append({ actor: SYSTEM_ACTOR, action: ok ? 'job.stage.release' : 'job.stage.fail', resource: { type: 'job', id: jobId }, detail: { stageId, domain: r.domain, jobState: done.state ?? null } }, trx);
      }
      return done;
    });
    const attempt = async (n: number): Promise<void> => {
      try {
        const done = await record();
        logger.info({ jobId, stageId, domain: r.domain, ok, state: done.state, recorded: done.recorded }, 'stage result recorded');
        // The job is over: the domains of its protocol steps delete its members.
        if (done.recorded && done.state !== 'running') {
          const job = await jobRepository.find(db, jobId);
          if (job && hasProtocolSteps(job.spec)) await endSteps(db, queue, jobId);
        }
      } catch (e) {
        const wait = RECORD_RETRY_MS[n];
        if (wait === undefined) {
          logger.error({ err: e, jobId, stageId }, 'could not record a stage result; the recovery sweep will ask the queue again');
          return;
        }
        logger.warn({ err: e instanceof Error ? e.message : String(e), jobId, stageId, retryInMs: wait }, 'could not record a stage result; trying again');
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
        await attempt(n + 1);
      }
    };
    void attempt(0);
  });
}

export interface RecoveryReport {
  /** Stages the queue no longer knew, sent again. */
  readonly enqueued: number;
  /** Stages that had finished but whose answers were not recorded, told again. */
  readonly redelivered: number;
  /** Stages waiting or running in their domains: left alone. */
  readonly pending: number;
  /** Researchers' jobs still queued whose dispatch (ε charge, first sending) never completed: dispatched. */
  readonly dispatched: number;
}

/**
 * One recovery sweep. The control database is the source of truth for work still owed: every
 * stage still queued or running of a job still queued or running is looked up in the queue
 * (`QueueDriver.resume`): left alone while pending, sent again when the queue lost it (Redis
 * restarted empty), its outcome told again when it finished unrecorded (the coordinator or its
 * database was down). Sending again is safe: the delivery key is the job and stage, and a domain
 * replaces its own ledger entries for a repeated job + stage, so nothing is released twice. Every
 * job that had stages sent again gets one audit entry (`job.recover`).
 */
export async function recoverJobs(db: Db, queue: QueueDriver, logger: Logger): Promise<RecoveryReport> {
  const open = await jobRepository.openStages(db);
  const byJob = new Map<string, Set<string>>();
  for (const s of open) byJob.set(s.job_id, (byJob.get(s.job_id) ?? new Set()).add(s.stage_id));
  let enqueued = 0; let redelivered = 0; let pending = 0; let dispatched = 0;
  for (const [jobId, stageIds] of byJob) {
    const job = await jobRepository.find(db, jobId);
    if (!job || (job.state !== 'queued' && job.state !== 'running')) continue;
    if (job.state === 'queued' && job.requester_role === 'researcher' && job.project_id && job.epsilon && !(await charged(db, job))) {
      await dispatch(db, queue, jobId); // charges ε once, then sends every stage
      dispatched++;
      continue;
    }
    const sent: { enqueued: string[]; redelivered: string[] } = { enqueued: [], redelivered: [] };
    // Protocol steps restart from scratch when stalled; stages still waiting for a step stay unsent.
    const withSteps = hasProtocolSteps(job.spec);
    const waiting = withSteps ? await waitingOnSteps(db, jobId) : new Set<string>();
    if (withSteps) sent.enqueued.push(...(await recoverSteps(db, queue, logger, jobId, stageIds)));
    for (const msg of await stageMessages(db, job)) {
      const stageId = msg.key.slice(jobId.length + 1);
      if (!stageIds.has(stageId) || waiting.has(stageId)) continue;
      const outcome = await queue.resume(msg, STAGE_DELIVERY);
      if (outcome === 'pending') pending++;
      else sent[outcome].push(stageId);
    }
    enqueued += sent.enqueued.length;
    redelivered += sent.redelivered.length;
    if (sent.enqueued.length || sent.redelivered.length) {
      logger.warn({ jobId, ...sent }, 'job recovered: stages sent again to their domains');
      await auditTrailOf(db).append({ actor: SYSTEM_ACTOR, action: 'job.recover', resource: { type: 'job', id: jobId }, pipelineHash: job.spec_hash, detail: { enqueued: sent.enqueued, redelivered: sent.redelivered } });
    }
  }
  return { enqueued, redelivered, pending, dispatched };
}

async function charged(db: Db, job: JobRow): Promise<boolean> {
  if (!job.project_id) return false;
  const charges = await budgetRepository.charges(db.kysely, job.owner_id, job.project_id);
  return charges.some((c) => c.job_id === job.id);
}

export interface JobRecovery {
  /** Runs a sweep now (after any sweep under way) and reports it. */
  sweep(): Promise<RecoveryReport>;
  stop(): Promise<void>;
}

/**
 * Keeps the work the control database owes in the queue: one sweep at once (coordinator start),
 * one whenever the queue's broker comes back after a loss, and one every `intervalMs` (default
 * 60 s; results lost in flight, a recording that gave up). Sweeps never overlap; a failed sweep is
 * logged and the next one tries again.
 */
export async function keepJobsRecovered(db: Db, queue: QueueDriver, logger: Logger, options: { intervalMs?: number } = {}): Promise<JobRecovery> {
  let chain: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const sweep = (why: string): Promise<RecoveryReport> => {
    const run = chain.then(async () => {
      const report = await recoverJobs(db, queue, logger);
      if (report.enqueued || report.redelivered || report.dispatched) logger.warn({ why, ...report }, 'recovery sweep');
      return report;
    });
    chain = run.catch(() => undefined);
    return run;
  };
  const quietly = (why: string) => {
    if (stopped) return;
    sweep(why).catch((e: unknown) => { logger.warn({ err: e instanceof Error ? e.message : String(e), why }, 'recovery sweep failed; the next one tries again'); });
  };
  queue.onReconnect(() => quietly('queue reconnected'));
  const timer = setInterval(() => quietly('interval'), options.intervalMs ?? 60_000);
  timer.unref();
  await sweep('start').catch((e: unknown) => { logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'recovery sweep at start failed'); });
  return {
    sweep: () => sweep('requested'),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await chain;
    },
  };
}
