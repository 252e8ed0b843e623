import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { DomainId } from '../../domains/domain-ids.ts';
import { DOMAIN_MIGRATIONS } from '../../domains/migrations/domain.migrations.ts';
import type { Database } from '../../store/database.ts';
import { migrate } from '../../store/migrate.ts';
import { LabError, isLabError, t } from '../../errors/index.ts';
import { CANCELLED, type Consumer, type QueueDriver } from '../queue/queue-driver.ts';
import type { SealedFollowUpRead } from './follow-up.ts';
import { closeAllPsiSessions, handleProtocolMessage, type PsiOutcome } from './psi-step.ts';
import { closeAllFaceSessions, handleFaceMessage, type FaceStepOutcome } from './face-step.ts';
import { intakePhoto, isPhotoMessage, photoPayloadSchema, type FaceAnalyser, type PhotoOutcome } from './photo-intake.ts';
import { executeStage } from './stage-executor.ts';
import { stagePayloadSchema, type StageOutcome } from './stage-outcome.ts';

export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_TTL_MS = 15_000;

/**
 * The statement timeout of stages from the environment (`LAB_STAGE_TIMEOUT_MS`, milliseconds), for
 * the processes that start workers; undefined when unset (the default applies: 120 s).
 */
export function stageTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env['LAB_STAGE_TIMEOUT_MS']?.trim();
  if (!text) return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1 || ms > 86_400_000) {
    throw new LabError('LAB-E031', { detail: t(`LAB_STAGE_TIMEOUT_MS 须为 1 到 86400000 之间的整数毫秒：${text}`, `LAB_STAGE_TIMEOUT_MS must be a whole number of milliseconds from 1 to 86400000: ${text}`), field: 'LAB_STAGE_TIMEOUT_MS' });
  }
  return ms;
}

export interface DomainWorkerOptions {
  readonly domain: DomainId;
  /** This domain's own database, opened with this domain's own credentials. Nothing else. */
  readonly db: Database;
  readonly queue: QueueDriver;
  readonly logger: Logger;
  /** Statement timeout of a stage's query (default 120 s); a stage over it fails with LAB-E070. */
  readonly statementTimeoutMs?: number | undefined;
  /** Grid only: opens the face engine for field photos (default: sandbox/face with its default models), once, on the first photo. */
  readonly openFaceEngine?: (() => Promise<FaceAnalyser>) | undefined;
}

/** The face engine of sandbox/face with its default configuration (LAB_FACE_MODEL_DIR or the npm-shipped models). */
async function defaultFaceEngine(): Promise<FaceAnalyser> {
  const { openFaceEngine } = await import('../../face/index.ts');
  return openFaceEngine();
}

export interface DomainWorker {
  readonly workerId: string;
  stop(): Promise<void>;
}

/**
 * A domain worker: the only holder of its domain's database credentials. It migrates its own
 * database, then reports its health through the queue's heartbeat channel so the coordinator can
 * tell whether the domain is reachable without ever holding a connection to it (I1, I2).
 * Stage execution is added by the sandbox runtime on top of this loop.
 */
export async function startDomainWorker(opts: DomainWorkerOptions): Promise<DomainWorker> {
  const { domain, db, queue, logger } = opts;
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const log = logger.child({ domain, workerId });
  const applied = await migrate(db, DOMAIN_MIGRATIONS[domain]);
  if (applied.length) log.info({ applied }, 'domain database migrated');

  const beat = async () => {
    let databaseOk = true;
    let error: string | undefined;
    try {
      await db.ping();
    } catch (e) {
      databaseOk = false;
      error = e instanceof Error ? e.message : String(e);
    }
    try {
      await queue.reportHeartbeat({ domain, workerId, databaseOk, at: new Date().toISOString(), ...(error ? { error } : {}) }, HEARTBEAT_TTL_MS);
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'heartbeat not delivered');
    }
  };
  await beat();
  const timer = setInterval(() => { void beat(); }, HEARTBEAT_INTERVAL_MS);
  timer.unref();

  // Stages: user errors (a bad pipeline, a table that cannot be released) are answers, not retries;
  // anything else is thrown so the queue retries it with backoff.
  let engine: Promise<FaceAnalyser> | undefined;
  const faceEngine = (): Promise<FaceAnalyser> => {
    engine ??= (opts.openFaceEngine ?? defaultFaceEngine)();
    engine.catch(() => { engine = undefined; });
    return engine;
  };
  const consumer: Consumer = queue.consume(domain, async (msg, ctx): Promise<StageOutcome | PhotoOutcome | PsiOutcome | FaceStepOutcome | SealedFollowUpRead> => {
    // A photo taken in the field (S5): only the grid domain takes them.
    if (isPhotoMessage(msg.payload)) {
      const photo = photoPayloadSchema.safeParse(msg.payload);
      if (domain !== 'grid') return { ok: false, error: { code: 'LAB-E154' } };
      if (!photo.success) return { ok: false, error: { code: 'LAB-E003', detail: t('照片消息格式错误', 'malformed photo message'), field: photo.error.issues[0]?.path.join('.') ?? 'photo' } };
      const started = Date.now();
      const outcome = await intakePhoto(db, faceEngine, photo.data);
      log.info({ key: msg.key, ms: Date.now() - started, ok: outcome.ok, ...(outcome.ok ? {} : { code: outcome.error.code }) }, 'field photo');
      return outcome;
    }
    // Face comparison steps (face-step.ts), PSI steps and stewards' follow-up reads (psi-step.ts, follow-up.ts).
    const face = await handleFaceMessage(db, domain, msg.payload, ctx.signal, log);
    if (face !== undefined) return face;
    const protocol = await handleProtocolMessage(db, domain, msg.payload, ctx.signal, log);
    if (protocol !== undefined) return protocol;
    const parsed = stagePayloadSchema.safeParse(msg.payload);
    if (!parsed.success) return { ok: false, error: { code: 'LAB-E003', zh: '阶段消息格式错误', en: 'malformed stage message' } };
    const started = Date.now();
    try {
      const table = await executeStage(db, domain, parsed.data, { signal: ctx.signal, ...(opts.statementTimeoutMs !== undefined ? { statementTimeoutMs: opts.statementTimeoutMs } : {}) });
      log.info({ jobId: parsed.data.jobId, stageId: parsed.data.stageId, ms: Date.now() - started, cells: table.guard.cells, suppressed: table.guard.suppressed }, 'stage done');
      // The time the stage ran here travels with the answer (the coordinator's stage-duration metric).
      const answer = { ok: true as const, table, ms: Date.now() - started };
      return answer;
    } catch (e) {
      // Stopped while running because the worker is shutting down: not an answer, the queue retries
      // it. Cancelled (the job was): answered as such (LAB-E073) and not retried.
      if (ctx.signal.aborted && ctx.signal.reason !== CANCELLED) throw e;
      if (isLabError(e) && e.kind === 'user') {
        log.info({ jobId: parsed.data.jobId, stageId: parsed.data.stageId, code: e.code }, 'stage refused');
        return { ok: false, error: { code: e.code, zh: e.messageIn('zh-CN'), en: e.messageIn('en'), ...(e.nodeId ? { nodeId: e.nodeId } : {}), ...(e.field ? { field: e.field } : {}) } };
      }
      log.warn({ jobId: parsed.data.jobId, stageId: parsed.data.stageId, err: e instanceof Error ? e.message : String(e) }, 'stage failed');
      throw e;
    }
  }, { concurrency: 1 });
  log.info('domain worker ready');
  return {
    workerId,
    async stop() {
      await consumer.close();
      await closeAllPsiSessions();
      closeAllFaceSessions();
      clearInterval(timer);
      log.info('domain worker stopped');
    },
  };
}
