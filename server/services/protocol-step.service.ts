import type { Logger } from 'pino';
import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import { LabError } from '../../sandbox/errors/index.ts';
import { isProtocolStepId, planPipeline, type Plan, type ProtocolStep } from '../../sandbox/plan/planner.ts';
import { validatePipeline } from '../../sandbox/pipeline/validate.ts';
import type { DeliveryResult, QueueDriver, StageMessage } from '../../sandbox/runtime/queue/queue-driver.ts';
import type { PsiOutcome, PsiPayload } from '../../sandbox/runtime/worker/psi-step.ts';
import type { FacePayload, FacePhase } from '../../sandbox/runtime/worker/face-step.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { jobRepository } from '../repositories/job.repository.ts';
import { jsonb } from '../repositories/jsonb.ts';
import { SYSTEM_ACTOR, auditTrailOf } from './audit.service.ts';
import { policyVersion } from './policy.service.ts';

type Db = Database<ControlSchema>;

/**
 * The coordinator's part of protocol steps (docs/architecture.md, "Protocol steps"). It holds no
 * key and never sees an item: it sends each domain its phase of the step with the bytes the other
 * domain produced (base64 PSI messages, relayed as they are), records where the step is in the
 * control database (run and phase, never a message), and once the receiver has written its members
 * it sends the stages that read them. A step that cannot finish is restarted from scratch (new run:
 * new keys in both domains) at most `MAX_STEP_RUNS` times; a protocol failure (a message replayed,
 * dropped, reordered, swapped) fails the job with the domain's error and releases nothing.
 */
export const MAX_STEP_RUNS = 3;

/** How a phase is delivered: the queue retries operational failures (e.g. LAB-E163 on another worker). */
const STEP_DELIVERY = { attempts: 3, backoffMs: 500 } as const;

type Phase = PsiPayload['phase'] | FacePhase;
const PHASES: readonly Phase[] = ['receiver-start', 'sender', 'receiver-continue', 'sender-continue', 'receiver-finish', 'end', 'sender-end'];

/**
 * The phases of a step, in order, before `end`: PSI has three deliveries; a face comparison
 * (face-compare, sandbox/runtime/worker/face-step.ts) five, because the reference holder answers
 * the setup before the probe holder may send its encrypted probes.
 */
const PSI_SEQUENCE: readonly Phase[] = ['receiver-start', 'sender', 'receiver-finish'];
const FACE_SEQUENCE: readonly Phase[] = ['receiver-start', 'sender', 'receiver-continue', 'sender-continue', 'receiver-finish'];
const sequenceOf = (step: ProtocolStep): readonly Phase[] => (step.protocol === 'face-compare' ? FACE_SEQUENCE : PSI_SEQUENCE);
const isSenderPhase = (phase: Phase) => phase.startsWith('sender');

/** Progress of a step as the control database keeps it (job_stage.result of the step's row). */
export interface StepProgress {
  readonly kind: 'psi-step';
  readonly run: number;
  readonly phase: Phase | 'done';
  /** Sizes the domains reported: each side's distinct items (documented leakage, docs/protocols.md). */
  readonly receiverItems?: number;
  readonly senderItems?: number;
  /** Messages and bytes relayed in this run. */
  readonly relayedMessages?: number;
  readonly relayedBytes?: number;
  /** When the coordinator last moved the step (ISO time). */
  readonly updatedAt?: string;
}

/** A step run with no progress for this long is restarted by the recovery sweep (the receiver's session TTL). */
export const STEP_STALL_MS = 10 * 60_000;

/** Step runs this coordinator process moved (`job/step/run`): others were left by a process that is gone. */
const moved = new Set<string>();
const runKey = (jobId: string, stepId: string, run: number) => `${jobId}/${stepId}/${run}`;

/** The queue key of one delivery of a step: `<jobId>.<stepId>.<run>-<phase>` (unique per delivery). */
export const stepDeliveryKey = (jobId: string, stepId: string, run: number, phase: Phase) => `${jobId}.${stepId}.${run}-${phase}`;

/** Parses a step delivery key; undefined for any other key (stages: `<jobId>.<stageId>`). */
export function parseStepDeliveryKey(key: string): { jobId: string; stepId: string; run: number; phase: Phase } | undefined {
  const m = /^([A-Za-z0-9_-]{1,64})\.((?:psi|face)~[A-Za-z][A-Za-z0-9_-]{0,63})\.(\d{1,3})-([a-z-]+)$/.exec(key);
  if (!m) return undefined;
  const phase = PHASES.find((p) => p === m[4]);
  return phase ? { jobId: m[1]!, stepId: m[2]!, run: Number(m[3]), phase } : undefined;
}

/** The job's plan, from its stored document (the same every time). */
function planOf(spec: unknown): Plan {
  const v = validatePipeline(spec);
  if (!v.ok) throw v.errors[0] ?? new LabError('LAB-E003');
  return planPipeline(v.pipeline);
}

function stepMessage(jobId: string, spec: unknown, step: ProtocolStep, run: number, phase: Phase, messages: readonly string[] = [], threshold?: number): StageMessage {
  const domain = isSenderPhase(phase) ? step.sender : step.receiver;
  const payload: PsiPayload | FacePayload = step.protocol === 'face-compare'
    ? { type: 'face', jobId, stepId: step.id, run, phase, pipeline: spec, messages: [...messages] }
    : { type: 'psi', jobId, stepId: step.id, run, phase: phase as PsiPayload['phase'], pipeline: spec, messages: [...messages], ...(threshold !== undefined ? { threshold } : {}) };
  return { key: stepDeliveryKey(jobId, step.id, run, phase), domain, payload };
}

async function saveProgress(db: Db, jobId: string, stepId: string, progress: StepProgress): Promise<void> {
  moved.add(runKey(jobId, stepId, progress.run));
  await db.kysely.updateTable('job_stage').set({ state: 'running', result: jsonb({ ...progress, updatedAt: new Date().toISOString() }) })
    .where('job_id', '=', jobId).where('stage_id', '=', stepId).where('state', 'in', ['queued', 'running']).execute();
}

async function progressOf(db: Db, jobId: string, stepId: string): Promise<{ state: string; progress: StepProgress | undefined }> {
  const row = await db.kysely.selectFrom('job_stage').select(['state', 'result']).where('job_id', '=', jobId).where('stage_id', '=', stepId).executeTakeFirst();
  const r = row?.result as StepProgress | null | undefined;
  return { state: row?.state ?? 'missing', progress: r && r.kind === 'psi-step' ? r : undefined };
}

/** The disclosure threshold of a job's policy version for its requester's role (each side's conditions are audited against it). */
async function thresholdOf(db: Db, jobId: string): Promise<number | undefined> {
  const job = await jobRepository.find(db, jobId);
  if (!job) return undefined;
  const engine = await policyVersion(db, job.policy_version ?? 1);
  return (job.requester_role === 'researcher' ? engine.params.researcher : engine.params.staff).threshold;
}

/** Starts (or restarts from scratch) a step: run `run`, the receiver's first phase. */
async function startStep(db: Db, queue: QueueDriver, jobId: string, spec: unknown, step: ProtocolStep, run: number, why: 'start' | 'restart', detail: Record<string, unknown> = {}): Promise<void> {
  await saveProgress(db, jobId, step.id, { kind: 'psi-step', run, phase: 'receiver-start' });
  await auditTrailOf(db).append({
    actor: SYSTEM_ACTOR, action: why === 'start' ? 'job.step.start' : 'job.step.restart', resource: { type: 'job', id: jobId },
    detail: { stepId: step.id, protocol: step.protocol, receiver: step.receiver, sender: step.sender, run, ...detail },
  });
  await queue.enqueue(stepMessage(jobId, spec, step, run, 'receiver-start', [], await thresholdOf(db, jobId)), STEP_DELIVERY);
}

/**
 * Sends what a job can run now: every protocol step whose own steps are done and that has not
 * started, and every stage whose steps are all done. Stages of plans without steps go at once.
 * Returns the stage messages to enqueue (the caller sends them as it sends any stage).
 */
export async function advanceJob(db: Db, queue: QueueDriver, jobId: string, stageMessages: readonly StageMessage[]): Promise<void> {
  const job = await jobRepository.find(db, jobId);
  if (!job || (job.state !== 'queued' && job.state !== 'running')) return;
  const plan = planOf(job.spec);
  const rows = await jobRepository.stages(db, jobId);
  const stateOf = new Map(rows.map((r) => [r.stage_id, r.state]));
  const done = (ids: readonly string[]) => ids.every((id) => stateOf.get(id) === 'succeeded');
  for (const s of plan.stages) {
    if (s.kind !== 'protocol') continue;
    if (stateOf.get(s.id) !== 'queued' || !done(s.after)) continue;
    const { progress } = await progressOf(db, jobId, s.id);
    if (progress) continue;
    await startStep(db, queue, jobId, job.spec, s, 0, 'start');
  }
  const ready = new Set(plan.stages.filter((s) => s.kind !== 'protocol' && done(s.after)).map((s) => s.id));
  for (const msg of stageMessages) {
    const stageId = msg.key.slice(jobId.length + 1);
    if (ready.has(stageId) && stateOf.get(stageId) === 'queued') await queue.enqueue(msg, { attempts: 3, backoffMs: 1000 });
  }
}

/** Does a plan (of a stored job document) have protocol steps? */
export function hasProtocolSteps(spec: unknown): boolean {
  try {
    return planOf(spec).stages.some((s) => s.kind === 'protocol');
  } catch {
    return false;
  }
}

/**
 * Tells the receiver domain of every step of a job that the job is over: it wipes any session it
 * still holds and deletes the job's members. Sent when a job ends, fails or is cancelled.
 */
export async function endSteps(db: Db, queue: QueueDriver, jobId: string): Promise<void> {
  const job = await jobRepository.find(db, jobId);
  if (!job) return;
  let plan: Plan;
  try { plan = planOf(job.spec); } catch { return; }
  for (const s of plan.stages) {
    if (s.kind !== 'protocol') continue;
    const { progress } = await progressOf(db, jobId, s.id);
    const run = progress?.run ?? 0;
    for (const phase of sequenceOf(s)) {
      await queue.cancel(isSenderPhase(phase) ? s.sender : s.receiver, stepDeliveryKey(jobId, s.id, run, phase));
    }
    await queue.enqueue(stepMessage(jobId, job.spec, s, run, 'end'), STEP_DELIVERY);
    // Both sides of a face comparison hold sessions between deliveries: the sender wipes its own too.
    if (s.protocol === 'face-compare') await queue.enqueue(stepMessage(jobId, job.spec, s, run, 'sender-end'), STEP_DELIVERY);
  }
}

/**
 * The coordinator's relay: hears every step delivery's answer, forwards the bytes to the other
 * domain, and records the step's end. `onJobEnd` is told when a step's failure ended the job.
 */
export async function relayProtocolSteps(db: Db, queue: QueueDriver, logger: Logger, stageMessagesOf: (jobId: string) => Promise<StageMessage[]>): Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  await queue.onResult(DOMAIN_IDS, (r: DeliveryResult) => {
    const k = parseStepDeliveryKey(r.key);
    if (!k) return;
    // One answer at a time: a step's phases are sequential and recording must not interleave.
    chain = chain.then(() => onAnswer(k, r)).catch((e: unknown) => {
      logger.error({ err: e instanceof Error ? e.message : String(e), key: r.key }, 'protocol step answer not handled; the recovery sweep restarts the step');
    });
  });

  async function onAnswer(k: NonNullable<ReturnType<typeof parseStepDeliveryKey>>, r: DeliveryResult): Promise<void> {
    if (k.phase === 'end' || k.phase === 'sender-end') {
      const out = r.ok ? (r.value as PsiOutcome) : undefined;
      logger.info({ jobId: k.jobId, stepId: k.stepId, run: k.run, ok: r.ok, wiped: out?.wiped ?? null }, 'protocol step ended in its domain');
      return;
    }
    const job = await jobRepository.find(db, k.jobId);
    if (!job || (job.state !== 'queued' && job.state !== 'running')) return;
    const { state, progress } = await progressOf(db, k.jobId, k.stepId);
    // A late answer of an earlier run or phase (a restart happened, a delivery told again): dropped.
    if ((state !== 'queued' && state !== 'running') || !progress || progress.run !== k.run || progress.phase !== k.phase) return;
    const step = planOf(job.spec).stages.find((s): s is ProtocolStep => s.kind === 'protocol' && s.id === k.stepId);
    if (!step) return;
    const out = r.ok ? (r.value as PsiOutcome | undefined) : undefined;
    if (!out || !out.ok) {
      const error = out && !out.ok ? out.error : { code: 'LAB-E163', zh: '数据域未能完成协议步骤，已重试', en: 'the domain could not run the protocol step after retries' };
      // A domain that lost its session (restarted, another worker) or a delivery that failed: start
      // over with new keys. A protocol error (tampering, a missing message) is final.
      if (!out && k.run + 1 < MAX_STEP_RUNS) {
        await startStep(db, queue, k.jobId, job.spec, step, k.run + 1, 'restart', { after: k.phase, code: error.code });
        return;
      }
      await failStep(db, queue, logger, k.jobId, step, k.run, k.phase, error);
      return;
    }
    const relayed = out.messages.length;
    const bytes = out.messages.reduce((a, m) => a + m.length, 0);
    const sizes = {
      ...(progress.receiverItems !== undefined ? { receiverItems: progress.receiverItems } : {}),
      ...(progress.senderItems !== undefined ? { senderItems: progress.senderItems } : {}),
      ...(k.phase === 'receiver-start' && out.items !== undefined ? { receiverItems: out.items } : {}),
      ...(k.phase === 'sender' && out.items !== undefined ? { senderItems: out.items } : {}),
      relayedMessages: (progress.relayedMessages ?? 0) + relayed,
      relayedBytes: (progress.relayedBytes ?? 0) + bytes,
    };
    const sequence = sequenceOf(step);
    const at = sequence.indexOf(k.phase);
    const next = at >= 0 ? sequence[at + 1] : undefined;
    if (next !== undefined) {
      await saveProgress(db, k.jobId, k.stepId, { kind: 'psi-step', run: k.run, phase: next, ...sizes });
      await queue.enqueue(stepMessage(k.jobId, job.spec, step, k.run, next, out.messages, next === 'sender' ? await thresholdOf(db, k.jobId) : undefined), STEP_DELIVERY);
      return;
    }
    // receiver-finish: the members are in the receiver's database; the step is done.
    const result: StepProgress = { kind: 'psi-step', run: k.run, phase: 'done', ...sizes };
    const ended = await db.kysely.transaction().execute(async (trx) => {
      const d = await jobRepository.recordStageEnd(trx, k.jobId, k.stepId, { state: 'succeeded', result });
      if (d.recorded) {
        await auditTrailOf(db).append({ actor: SYSTEM_ACTOR, action: 'job.step.end', resource: { type: 'job', id: k.jobId }, detail: { stepId: k.stepId, run: k.run, ...sizes, keysWiped: out.wiped ? out.wiped.keyZeroed && out.wiped.threadCopiesZeroed : null, jobState: d.state ?? null } }, trx);
      }
      return d;
    });
    logger.info({ jobId: k.jobId, stepId: k.stepId, run: k.run, ...sizes }, 'protocol step done');
    if (ended.recorded) await advanceJob(db, queue, k.jobId, await stageMessagesOf(k.jobId));
  }
}

/** Ends a step as failed (LAB-E164 naming the domain's error): the job fails, nothing more is sent, the domains clean up. */
async function failStep(db: Db, queue: QueueDriver, logger: Logger, jobId: string, step: ProtocolStep, run: number, phase: Phase | 'done', error: { code: string; zh: string; en: string }): Promise<void> {
  const stepError = { code: 'LAB-E164', zh: `协议步骤 ${step.id} 失败（${error.code}）：${error.zh}`, en: `protocol step ${step.id} failed (${error.code}): ${error.en}`, nodeId: step.nodeId };
  await db.kysely.transaction().execute(async (trx) => {
    const d = await jobRepository.recordStageEnd(trx, jobId, step.id, { state: 'failed', error: stepError });
    if (d.recorded) {
      await auditTrailOf(db).append({ actor: SYSTEM_ACTOR, action: 'job.step.fail', resource: { type: 'job', id: jobId }, detail: { stepId: step.id, run, phase, code: error.code, jobState: d.state ?? null } }, trx);
    }
  });
  logger.warn({ jobId, stepId: step.id, run, phase, code: error.code }, 'protocol step failed');
  await endSteps(db, queue, jobId);
}

/**
 * Recovery of a job with steps (recoverJobs). A step run that this coordinator process never moved
 * (the coordinator restarted: answers heard by no one are lost) or that has not moved for
 * `STEP_STALL_MS` (a delivery lost with the queue's broker, a worker that died) is restarted from
 * scratch: a new run, new keys in both domains; the old run's late answers are dropped and its
 * receiver session is wiped by its TTL or at the job's end. After `MAX_STEP_RUNS` runs the step
 * fails. A step not started yet is started when its own steps are done (advanceJob).
 */
export async function recoverSteps(db: Db, queue: QueueDriver, logger: Logger, jobId: string, openIds: ReadonlySet<string>): Promise<string[]> {
  const job = await jobRepository.find(db, jobId);
  if (!job || (job.state !== 'queued' && job.state !== 'running')) return [];
  const plan = planOf(job.spec);
  const restarted: string[] = [];
  for (const s of plan.stages) {
    if (s.kind !== 'protocol' || !openIds.has(s.id)) continue;
    const { progress } = await progressOf(db, jobId, s.id);
    if (!progress || progress.phase === 'done') continue;
    // (An unreadable time counts as stalled.)
    const stalled = !moved.has(runKey(jobId, s.id, progress.run)) || !(Date.now() - Date.parse(progress.updatedAt ?? '') <= STEP_STALL_MS);
    if (!stalled) continue;
    if (progress.run + 1 >= MAX_STEP_RUNS) {
      await failStep(db, queue, logger, jobId, s, progress.run, progress.phase, { code: 'LAB-E163', zh: '协议步骤多次中断', en: 'the protocol step was interrupted too many times' });
      continue;
    }
    await startStep(db, queue, jobId, job.spec, s, progress.run + 1, 'restart', { after: progress.phase, code: 'recovery' });
    restarted.push(s.id);
  }
  return restarted;
}

/** Stages (not steps) of a job that still wait for a step: recovery must not send them. */
export async function waitingOnSteps(db: Db, jobId: string): Promise<Set<string>> {
  const job = await jobRepository.find(db, jobId);
  if (!job) return new Set();
  let plan: Plan;
  try { plan = planOf(job.spec); } catch { return new Set(); }
  const rows = await jobRepository.stages(db, jobId);
  const stateOf = new Map(rows.map((r) => [r.stage_id, r.state]));
  return new Set(plan.stages.filter((s) => s.kind !== 'protocol' && !s.after.every((a) => stateOf.get(a) === 'succeeded')).map((s) => s.id));
}

/** Results of a job without its steps' bookkeeping (a step's row holds sizes, not a table). */
export const withoutSteps = <R extends { stage_id: string }>(rows: readonly R[]): R[] => rows.filter((r) => !isProtocolStepId(r.stage_id));
