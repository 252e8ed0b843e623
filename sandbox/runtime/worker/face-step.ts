import { sql } from 'kysely';
import { z } from 'zod';
import type { DomainId } from '../../domains/domain-ids.ts';
import { LabError, isLabError, t } from '../../errors/index.ts';
import { compileRel } from '../../compile/plan.compile.ts';
import { ident } from '../../compile/identifiers.ts';
import {
  FM_SETUP, decodeFmMessage, maxComparisonsPerSession, openProbeHolder, openReferenceHolder, templateFromBytes,
  type FaceProbeHolder, type FaceReferenceHolder, type ReferenceTemplate,
} from '../../crypto/face-match/index.ts';
import type { FaceCompareSpec } from '../../ir/rel.ts';
import { planPipeline, type ProtocolStep } from '../../plan/planner.ts';
import { validatePipeline } from '../../pipeline/validate.ts';
import type { Database } from '../../store/database.ts';
import { DEFAULT_STATEMENT_TIMEOUT_MS, snapshotDate } from './stage-executor.ts';

/**
 * A domain's side of a face-compare step (S5, operators/face-verify; docs/protocols.md, "Face
 * verification in pipelines"). The coordinator relays the frames of sandbox/crypto/face-match
 * between five deliveries, the same relay and queue as PSI steps (protocol-step.service):
 *
 *   receiver-start     grid      its visits of the step (own SELECT), unusable ones decided here;
 *                                 a probe holder per session of ≤ 8 192 comparisons → setups
 *   sender             registry  setups → a reference holder per session → accepts
 *   receiver-continue  grid      accepts → encrypted probe groups (lookup keys sealed to the registry)
 *   sender-continue    registry  probes → parameterised lookup of its references → masked results
 *   receiver-finish    grid      results → outcomes written to lab_face_outcome (one transaction),
 *                                 keys wiped
 *   end, sender-end    grid, registry   the job is over: sessions still held are wiped; grid deletes outcomes
 *
 * Keys are made per session here and never leave the process; sessions are held in this worker's
 * memory between deliveries (another worker of the domain answers LAB-E148 and the coordinator
 * restarts the step with new keys). A session not finished within `FACE_SESSION_TTL_MS` is wiped.
 */
export const FACE_PHASES = ['receiver-start', 'sender', 'receiver-continue', 'sender-continue', 'receiver-finish', 'end', 'sender-end'] as const;
export type FacePhase = (typeof FACE_PHASES)[number];

/** One frame in base64: a setup carries the Galois keys (≈ 5 MB at 128 values), a probe group ≈ 0.5 MB. */
const FRAME = z.string().max(24_000_000).regex(/^[A-Za-z0-9+/]*={0,2}$/);

export const facePayloadSchema = z.object({
  type: z.literal('face'),
  jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  stepId: z.string().regex(/^face~[A-Za-z][A-Za-z0-9_-]{0,63}$/),
  run: z.number().int().min(0).max(100),
  phase: z.enum(FACE_PHASES),
  pipeline: z.unknown(),
  messages: z.array(FRAME).max(20_000).default([]),
}).strict();

export type FacePayload = z.infer<typeof facePayloadSchema>;

export interface FaceWipeReport { readonly keyZeroed: boolean; readonly threadCopiesZeroed: boolean }

/** What a domain answers: frames to relay and sizes only, never a key, template or outcome. */
export type FaceStepOutcome =
  | { readonly ok: true; readonly phase: FacePhase; readonly messages: readonly string[]; readonly items?: number; readonly wiped?: FaceWipeReport }
  | { readonly ok: false; readonly phase: FacePhase; readonly error: { readonly code: string; readonly zh: string; readonly en: string }; readonly wiped?: FaceWipeReport };

export const FACE_SESSION_TTL_MS = 10 * 60_000;

interface ProbeSession {
  readonly kind: 'probe';
  /** By the holder's session id (carried by every frame). */
  readonly holders: Map<string, { holder: FaceProbeHolder; visits: readonly string[] }>;
  readonly timer: NodeJS.Timeout;
}
interface ReferenceSession {
  readonly kind: 'reference';
  readonly holders: Map<string, FaceReferenceHolder>;
  readonly timer: NodeJS.Timeout;
}

/** Sessions this process holds, by `domain/job/step/run` (embedded mode runs both sides in one process). */
const sessions = new Map<string, ProbeSession | ReferenceSession>();
const sessionKey = (domain: DomainId, p: Pick<FacePayload, 'jobId' | 'stepId' | 'run'>) => `${domain}/${p.jobId}/${p.stepId}/${p.run}`;

/** Number of face sessions this process holds (tests: none is left behind). */
export const heldFaceSessions = () => sessions.size;

function wipeSession(key: string): FaceWipeReport | undefined {
  const s = sessions.get(key);
  if (!s) return undefined;
  sessions.delete(key);
  clearTimeout(s.timer);
  let live = 0;
  if (s.kind === 'probe') {
    for (const { holder } of s.holders.values()) { holder.close(); live += holder.keyMaterialLive(); }
  } else {
    for (const holder of s.holders.values()) { holder.close(); live += holder.keyMaterialLive(); }
  }
  return { keyZeroed: live === 0, threadCopiesZeroed: true };
}

/** Wipes every held session (the worker is stopping). */
export function closeAllFaceSessions(): void {
  for (const key of [...sessions.keys()]) wipeSession(key);
}

function hold(key: string, s: Omit<ProbeSession, 'timer'> | Omit<ReferenceSession, 'timer'>): void {
  wipeSession(key); // a repeated delivery starts over with new keys
  const timer = setTimeout(() => { wipeSession(key); }, FACE_SESSION_TTL_MS);
  timer.unref();
  sessions.set(key, { ...s, timer } as ProbeSession | ReferenceSession);
}

const notHeld = (p: FacePayload) => new LabError('LAB-E148', { detail: t(`本进程没有人脸比对会话 ${p.stepId}（第 ${p.run} 次）`, `this process holds no face comparison session of ${p.stepId} (run ${p.run})`) });

/** The domain re-plans the document itself and finds the step; a step of other domains is refused. */
export function faceStepFor(domain: DomainId, payload: Pick<FacePayload, 'pipeline' | 'stepId'>, side: 'receiver' | 'sender'): ProtocolStep & { face: FaceCompareSpec } {
  const v = validatePipeline(payload.pipeline);
  if (!v.ok) throw v.errors[0] ?? new LabError('LAB-E003');
  const step = planPipeline(v.pipeline).stages.find((s) => s.id === payload.stepId);
  if (!step || step.kind !== 'protocol' || step.protocol !== 'face-compare' || !step.face) {
    throw new LabError('LAB-E004', { detail: t(`流程中没有人脸比对步骤 ${payload.stepId}`, `the pipeline has no face comparison step ${payload.stepId}`) });
  }
  if (step[side] !== domain) {
    throw new LabError('LAB-E012', { detail: t(`人脸比对步骤 ${step.id} 的${side === 'receiver' ? '探针方' : '底库方'}是 ${step[side]}，不是本域`, `the ${side === 'receiver' ? 'probe holder' : 'reference holder'} of face comparison step ${step.id} is ${step[side]}, not this domain`) });
  }
  return { ...step, face: step.face };
}

/** The probe holders' job id: job, node and run (frames of another run are refused by the library). */
const probeJobId = (p: FacePayload) => `${p.jobId}:${p.stepId.slice('face~'.length)}:${p.run}`;

interface VisitRow { readonly k: string; readonly lookup: string | null; readonly model: string | null; readonly template: Uint8Array | null; readonly unusable: string | null }

/** The step's visits, read inside the grid domain: key, lookup key, model, template, unusable reason. */
async function readVisits(db: Database, step: ProtocolStep & { face: FaceCompareSpec }, jobId: string, signal?: AbortSignal): Promise<VisitRow[]> {
  const asOf = await snapshotDate(db);
  const inner = compileRel(step.receiverRel, asOf, { jobId });
  const f = step.face;
  const text = `SELECT ${ident(f.key)}::text AS k, ${ident(f.lookup)}::text AS lookup, ${ident(f.modelColumn)}::text AS model, ${ident(f.template)} AS template, ${ident(f.unusableColumn)}::text AS unusable FROM (${inner.sql}) q ORDER BY 1`;
  return db.readOnlyQuery<VisitRow>(text, inner.parameters, { timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS, ...(signal ? { signal } : {}) });
}

/** Reference templates of the registry, a parameterised lookup per group of keys: one answer per key, in order. */
export function referenceLookup(db: Database, signal?: AbortSignal) {
  return async (keys: readonly string[], modelId: string): Promise<(ReferenceTemplate | undefined)[]> => {
    const rows = await db.readOnlyQuery<{ id_number: string; model_id: string; template: Uint8Array }>(
      'SELECT DISTINCT ON (id_number) id_number, model_id, template FROM reference_photo WHERE id_number = ANY($1::text[]) AND model_id = $2 AND template IS NOT NULL ORDER BY id_number, captured_on DESC',
      [[...keys], modelId], { timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    const byKey = new Map(rows.map((r) => [r.id_number, r]));
    return keys.map((k) => {
      const r = byKey.get(k);
      return r ? { modelId: r.model_id, template: Int8Array.from(templateFromBytes(r.template)) } : undefined;
    });
  };
}

const b64 = (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const sessionOf = (bytes: Uint8Array) => decodeFmMessage(bytes).session;

/** Deletes a job's outcomes (every step) in this domain: the job ended or was cancelled. */
export async function deleteFaceOutcomes(db: Database, jobId: string): Promise<void> {
  await sql`DELETE FROM lab_face_outcome WHERE job_id = ${jobId}`.execute(db.kysely);
}

/**
 * Runs one delivery of a face-compare step in this domain. Protocol failures the library detects
 * (LAB-E191–E197: a frame forged, replayed, of another session, out of range) are answers after
 * the session is wiped and nothing is written; LAB-E148 (session not here) is thrown so the queue
 * may try another worker of the domain, then the coordinator restarts the step.
 */
export async function executeFaceStep(db: Database, domain: DomainId, payload: FacePayload, signal?: AbortSignal): Promise<FaceStepOutcome> {
  const key = sessionKey(domain, payload);
  const { phase } = payload;
  try {
    switch (phase) {
      case 'receiver-start': {
        const step = faceStepFor(domain, payload, 'receiver');
        const f = step.face;
        const rows = await readVisits(db, step, payload.jobId, signal);
        // Unusable here, without asking anyone: no template, a reason recorded, another model, no lookup key.
        const usable = rows.filter((r) => r.template !== null && r.unusable === null && r.model === f.modelId && r.lookup !== null && r.template.byteLength === f.dimension);
        const holders = new Map<string, { holder: FaceProbeHolder; visits: readonly string[] }>();
        const per = maxComparisonsPerSession(f.dimension);
        const setups: string[] = [];
        try {
          for (let from = 0; from < usable.length; from += per) {
            const chunk = usable.slice(from, from + per);
            const holder = await openProbeHolder({ jobId: probeJobId(payload), modelId: f.modelId, dimension: f.dimension, threshold: f.threshold });
            holders.set(holder.session, { holder, visits: chunk.map((r) => r.k) });
            setups.push(...holder.start(chunk.map((r) => ({ key: r.lookup ?? '', template: templateFromBytes(r.template ?? new Uint8Array(0)) }))).map(b64));
          }
        } catch (e) {
          for (const { holder } of holders.values()) holder.close();
          throw e;
        } finally {
          for (const r of rows) r.template?.fill(0);
        }
        hold(key, { kind: 'probe', holders });
        return { ok: true, phase, messages: setups, items: usable.length };
      }
      case 'sender': {
        const step = faceStepFor(domain, payload, 'sender');
        const f = step.face;
        const holders = new Map<string, FaceReferenceHolder>();
        const accepts: string[] = [];
        try {
          for (const m of payload.messages) {
            const bytes = unb64(m);
            const frame = decodeFmMessage(bytes);
            // The registry checks the setup against its own plan of the document: the model,
            // dimension and threshold it is asked to compare with are the step's.
            if (frame.kind !== FM_SETUP || frame.modelId !== f.modelId || frame.dimension !== f.dimension || frame.threshold !== f.threshold
              || frame.jobId !== probeJobId(payload) || holders.has(frame.session)) {
              throw new LabError('LAB-E193', { detail: t('初始化消息与本域对该步骤的规划不符', 'the setup does not match this domain\u2019s plan of the step') });
            }
            const holder = await openReferenceHolder({ lookup: referenceLookup(db, signal) });
            holders.set(frame.session, holder);
            accepts.push(...(await holder.handle(bytes)).map(b64));
          }
        } catch (e) {
          for (const h of holders.values()) h.close();
          throw e;
        }
        hold(key, { kind: 'reference', holders });
        return { ok: true, phase, messages: accepts };
      }
      case 'receiver-continue': case 'receiver-finish': {
        const held = sessions.get(key);
        if (!held || held.kind !== 'probe') throw notHeld(payload);
        const out: string[] = [];
        for (const m of payload.messages) {
          const bytes = unb64(m);
          const entry = held.holders.get(sessionOf(bytes));
          if (!entry) throw new LabError('LAB-E193', { detail: t('消息属于未知会话', 'a frame of an unknown session') });
          out.push(...(await entry.holder.handle(bytes)).map(b64));
        }
        if (phase === 'receiver-continue') return { ok: true, phase, messages: out };
        const outcomes: { k: string; o: string }[] = [];
        for (const { holder, visits } of held.holders.values()) {
          if (!holder.done) throw new LabError('LAB-E164', { detail: t('底库方的结果不完整（缺失或被截留）', 'the reference holder\u2019s results are incomplete (missing or withheld)') });
          holder.result().forEach((o, i) => outcomes.push({ k: visits[i] ?? '', o }));
        }
        await db.kysely.transaction().execute(async (trx) => {
          await sql`DELETE FROM lab_face_outcome WHERE job_id = ${payload.jobId} AND step_id = ${payload.stepId}`.execute(trx);
          for (let i = 0; i < outcomes.length; i += 20_000) {
            const part = outcomes.slice(i, i + 20_000);
            await sql`INSERT INTO lab_face_outcome (job_id, step_id, visit_key, outcome) SELECT ${payload.jobId}, ${payload.stepId}, k, o FROM unnest(${part.map((x) => x.k)}::text[], ${part.map((x) => x.o)}::text[]) AS u(k, o)`.execute(trx);
          }
        });
        const wiped = wipeSession(key) ?? { keyZeroed: true, threadCopiesZeroed: true };
        return { ok: true, phase, messages: [], wiped };
      }
      case 'sender-continue': {
        const held = sessions.get(key);
        if (!held || held.kind !== 'reference') throw notHeld(payload);
        const out: string[] = [];
        for (const m of payload.messages) {
          const bytes = unb64(m);
          const holder = held.holders.get(sessionOf(bytes));
          if (!holder) throw new LabError('LAB-E193', { detail: t('消息属于未知会话', 'a frame of an unknown session') });
          out.push(...(await holder.handle(bytes)).map(b64));
        }
        for (const holder of held.holders.values()) {
          if (!holder.done) throw new LabError('LAB-E164', { detail: t('探针方的消息不完整（缺失或被截留）', 'the probe holder\u2019s frames are incomplete (missing or withheld)') });
        }
        const wiped = wipeSession(key) ?? { keyZeroed: true, threadCopiesZeroed: true };
        return { ok: true, phase, messages: out, wiped };
      }
      case 'end': case 'sender-end': {
        let wiped: FaceWipeReport | undefined;
        for (const k of [...sessions.keys()]) {
          if (k.startsWith(`${domain}/${payload.jobId}/${payload.stepId}/`)) wiped = wipeSession(k);
        }
        // Only the probe holder's domain (grid, migration 0007) keeps outcomes.
        if (domain === 'grid') await deleteFaceOutcomes(db, payload.jobId);
        return { ok: true, phase, messages: [], ...(wiped ? { wiped } : {}) };
      }
    }
  } catch (e) {
    if (isLabError(e) && (e.code === 'LAB-E164' || /^LAB-E19[1-7]$/.test(e.code))) {
      const wiped = wipeSession(key);
      return { ok: false, phase, error: { code: e.code, zh: e.messageIn('zh-CN'), en: e.messageIn('en') }, ...(wiped ? { wiped } : {}) };
    }
    throw e;
  }
}

/**
 * The domain worker's entry for face-compare deliveries: undefined when `payload` is not one. Sizes
 * and timing are logged, never a frame, a key or an outcome.
 */
export async function handleFaceMessage(db: Database, domain: DomainId, payload: unknown, signal: AbortSignal, log: { info(o: object, m: string): void; warn(o: object, m: string): void }): Promise<FaceStepOutcome | undefined> {
  if (typeof payload !== 'object' || payload === null || (payload as { type?: unknown }).type !== 'face') return undefined;
  const parsed = facePayloadSchema.safeParse(payload);
  if (!parsed.success) return { ok: false, phase: 'end', error: { code: 'LAB-E149', zh: '人脸比对步骤消息格式错误', en: 'malformed face comparison step message' } };
  const started = Date.now();
  let out: FaceStepOutcome;
  try {
    out = await executeFaceStep(db, domain, parsed.data, signal);
  } catch (e) {
    // Retried by the queue: the code (or the error's name) only, never a frame.
    log.warn({ jobId: parsed.data.jobId, stepId: parsed.data.stepId, run: parsed.data.run, phase: parsed.data.phase, code: isLabError(e) ? e.code : e instanceof Error ? e.name : 'unknown', ms: Date.now() - started }, 'face step not done');
    throw e;
  }
  log.info({ jobId: parsed.data.jobId, stepId: parsed.data.stepId, run: parsed.data.run, phase: parsed.data.phase, ok: out.ok, messages: out.ok ? out.messages.length : 0, ms: Date.now() - started }, 'face step');
  return out;
}
