import { sql } from 'kysely';
import { z } from 'zod';
import type { DomainId } from '../../domains/domain-ids.ts';
import { LabError, t } from '../../errors/index.ts';
import { compileProtocolItems } from '../../compile/plan.compile.ts';
import { PsiReceiver, PsiSender, type PsiWipeReport } from '../../crypto/psi/index.ts';
import { rel } from '../../ir/rel.ts';
import { planPipeline, type ProtocolStep } from '../../plan/planner.ts';
import { validatePipeline } from '../../pipeline/validate.ts';
import type { Database } from '../../store/database.ts';
import { auditStageConditions } from './condition-audit.runner.ts';
import type { SealedFollowUpRead } from './follow-up.ts';
import { DEFAULT_STATEMENT_TIMEOUT_MS, snapshotDate } from './stage-executor.ts';

/**
 * A domain's side of a PSI step in a pipeline (docs/protocols.md, "PSI in pipelines"). Three
 * deliveries, the coordinator relaying the bytes between them:
 *
 *   receiver-start   (receiver domain)  items → PsiReceiver.start → M1              ─▶ coordinator
 *   sender           (sender domain)    M1 → PsiSender: start(items) = M2, handle(M1) = M3,
 *                                        key wiped → M2 ‖ M3                          ─▶ coordinator
 *   receiver-finish  (receiver domain)  M2 ‖ M3 → members written to lab_psi_member (one
 *                                        transaction), key wiped → done
 *   end              (receiver domain)  the job is over (or cancelled): members deleted, a session
 *                                        still held is wiped
 *
 * Keys are made here, per job and step, and never leave this process. The receiver's session is
 * held in this worker's memory between its two deliveries (sticky: see `sessionKey`); another
 * worker of the domain answers LAB-E163 and the coordinator restarts the step from scratch. A
 * session not finished within `SESSION_TTL_MS` is wiped.
 */
export const psiPayloadSchema = z.object({
  type: z.literal('psi'),
  jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  stepId: z.string().regex(/^psi~[A-Za-z][A-Za-z0-9_-]{0,63}$/),
  /** Which attempt of the step (a restart from scratch is a new session with new keys). */
  run: z.number().int().min(0).max(100),
  phase: z.enum(['receiver-start', 'sender', 'receiver-finish', 'end']),
  pipeline: z.unknown(),
  /**
   * The disclosure threshold of the job's policy: each side's conditions are audited over its own
   * population before its items are read (condition-audit: a condition that holds, or fails, for at
   * most this many distinct keys is refused, LAB-E125).
   */
  threshold: z.number().int().min(1).max(1000).optional(),
  /** Base64 PSI messages relayed from the other party (sender: M1; receiver-finish: M2 and M3). */
  messages: z.array(z.string().max(2_000_000).regex(/^[A-Za-z0-9+/]*={0,2}$/)).max(100_000).default([]),
}).strict();

export type PsiPayload = z.infer<typeof psiPayloadSchema>;

/** What a domain answers for a PSI delivery: messages to relay and sizes only, never an item. */
export type PsiOutcome =
  | {
    readonly ok: true;
    readonly phase: PsiPayload['phase'];
    readonly messages: readonly string[];
    /** This side's number of distinct items (documented leakage: the other side learns its list size). */
    readonly items?: number;
    /** The key of this delivery's session was wiped (sender: at its end; receiver: at finish/end). */
    readonly wiped?: PsiWipeReport;
  }
  | { readonly ok: false; readonly phase: PsiPayload['phase']; readonly error: { readonly code: string; readonly zh: string; readonly en: string }; readonly wiped?: PsiWipeReport };

export const SESSION_TTL_MS = 10 * 60_000;

interface HeldSession {
  readonly receiver: PsiReceiver;
  readonly items: readonly string[];
  readonly timer: NodeJS.Timeout;
}

/** Receiver sessions held by this process, by `job/step/run`. */
const sessions = new Map<string, HeldSession>();

const sessionKey = (p: Pick<PsiPayload, 'jobId' | 'stepId' | 'run'>) => `${p.jobId}/${p.stepId}/${p.run}`;

/** The PSI session id bound into every message: job, step and run (a replay from another run is refused, LAB-E101). */
const sessionId = (p: Pick<PsiPayload, 'jobId' | 'stepId' | 'run'>) => `lab-psi/${p.jobId}/${p.stepId}/${p.run}`;

/** Number of receiver sessions this process holds (tests: none is left behind). */
export const heldPsiSessions = () => sessions.size;

async function dropSession(key: string): Promise<PsiWipeReport | undefined> {
  const s = sessions.get(key);
  if (!s) return undefined;
  sessions.delete(key);
  clearTimeout(s.timer);
  return s.receiver.close();
}

/** Wipes every held session (the worker is stopping). */
export async function closeAllPsiSessions(): Promise<void> {
  for (const key of [...sessions.keys()]) await dropSession(key);
}

/** The domain re-plans the document itself and finds its side of the step; a step of other domains is refused. */
export function stepFor(domain: DomainId, payload: Pick<PsiPayload, 'pipeline' | 'stepId'>, side: 'receiver' | 'sender'): ProtocolStep {
  const v = validatePipeline(payload.pipeline);
  if (!v.ok) throw v.errors[0] ?? new LabError('LAB-E003');
  const step = planPipeline(v.pipeline).stages.find((s) => s.id === payload.stepId);
  if (!step || step.kind !== 'protocol') {
    throw new LabError('LAB-E004', { detail: t(`流程中没有协议步骤 ${payload.stepId}`, `the pipeline has no protocol step ${payload.stepId}`) });
  }
  if (step[side] !== domain) {
    throw new LabError('LAB-E012', { detail: t(`协议步骤 ${step.id} 的${side === 'receiver' ? '接收方' : '发送方'}是 ${step[side]}，不是本域`, `the ${side} of protocol step ${step.id} is ${step[side]}, not this domain`) });
  }
  return step;
}

/** This side's distinct items (its key column, normalised; with the step's extra geography columns appended, `ID|district`), read inside the domain; its conditions audited first when a threshold is given. */
export async function sideItems(db: Database, step: ProtocolStep, side: 'receiver' | 'sender', jobId: string, signal?: AbortSignal, threshold?: number): Promise<string[]> {
  const asOf = await snapshotDate(db);
  if (threshold !== undefined) {
    // The side's population counted by distinct keys (what the set is): one count per condition.
    const rows = side === 'receiver' ? step.receiverRel : step.senderRel;
    const key = side === 'receiver' ? step.receiverKey : step.senderKey;
    const population = rel.aggregate(rows, [], [[]], [{ name: 'n', kind: 'count_persons' }], key, false);
    await auditStageConditions(db, population, asOf, threshold, { jobId, timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  }
  const also = (side === 'receiver' ? step.receiverAlso : step.senderAlso) ?? [];
  const q = compileProtocolItems(side === 'receiver' ? step.receiverRel : step.senderRel, side === 'receiver' ? step.receiverKey : step.senderKey, asOf, { jobId }, also);
  const rows = await db.readOnlyQuery<{ item: string }>(q.sql, q.parameters, { timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  return rows.map((r) => r.item);
}

const b64 = (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Deletes a job's members (every step) in this domain: the job ended or was cancelled. */
export async function deleteMembers(db: Database, jobId: string): Promise<void> {
  await sql`DELETE FROM lab_psi_member WHERE job_id = ${jobId}`.execute(db.kysely);
}

/**
 * Runs one PSI delivery in this domain. Protocol failures (a message replayed, dropped, reordered,
 * swapped or forged: LAB-E100–E108, or an incomplete exchange: LAB-E164) are answers after the
 * session's key is wiped and nothing is written; LAB-E163 (session not here) is thrown so the
 * queue may try another worker of the domain.
 */
export async function executePsi(db: Database, domain: DomainId, payload: PsiPayload, signal?: AbortSignal): Promise<PsiOutcome> {
  const key = sessionKey(payload);
  switch (payload.phase) {
    case 'receiver-start': {
      const step = stepFor(domain, payload, 'receiver');
      let items: string[];
      try {
        items = await sideItems(db, step, 'receiver', payload.jobId, signal, payload.threshold);
      } catch (e) {
        return failed(payload.phase, e, undefined);
      }
      await dropSession(key); // a repeated delivery starts over with a new key
      const receiver = await PsiReceiver.create({ session: sessionId(payload), mode: 'membership' });
      try {
        const m1 = await receiver.start(items);
        const timer = setTimeout(() => { void dropSession(key); }, SESSION_TTL_MS);
        timer.unref();
        sessions.set(key, { receiver, items, timer });
        return { ok: true, phase: payload.phase, messages: m1.map(b64), items: items.length };
      } catch (e) {
        await receiver.close();
        throw e;
      }
    }
    case 'sender': {
      const step = stepFor(domain, payload, 'sender');
      let items: string[];
      try {
        items = await sideItems(db, step, 'sender', payload.jobId, signal, payload.threshold);
      } catch (e) {
        return failed(payload.phase, e, undefined);
      }
      const sender = await PsiSender.create({ session: sessionId(payload), mode: 'membership' });
      try {
        const m2 = await sender.start(items);
        const m3: Uint8Array[] = [];
        for (const m of payload.messages) m3.push(...(await sender.handle(unb64(m))));
        if (!sender.done) throw new LabError('LAB-E164', { detail: t('接收方的列表不完整（消息缺失）', 'the receiver\u2019s list is incomplete (messages missing)') });
        const wiped = await sender.close();
        return { ok: true, phase: payload.phase, messages: [...m2, ...m3].map(b64), items: items.length, wiped };
      } catch (e) {
        const wiped = await sender.close();
        return failed(payload.phase, e, wiped);
      }
    }
    case 'receiver-finish': {
      const held = sessions.get(key);
      if (!held) {
        throw new LabError('LAB-E163', { detail: t(`本进程没有协议会话 ${payload.stepId}（第 ${payload.run} 次）`, `this process holds no session of ${payload.stepId} (run ${payload.run})`) });
      }
      try {
        for (const m of payload.messages) await held.receiver.handle(unb64(m));
        if (!held.receiver.done) throw new LabError('LAB-E164', { detail: t('发送方的消息不完整（缺失或被截留）', 'the sender\u2019s messages are incomplete (missing or withheld)') });
        const { rowIsMember } = held.receiver.result();
        const members = held.items.filter((_, i) => rowIsMember?.[i] === 1);
        await db.kysely.transaction().execute(async (trx) => {
          await sql`DELETE FROM lab_psi_member WHERE job_id = ${payload.jobId} AND step_id = ${payload.stepId}`.execute(trx);
          for (let i = 0; i < members.length; i += 50_000) {
            await sql`INSERT INTO lab_psi_member (job_id, step_id, item) SELECT ${payload.jobId}, ${payload.stepId}, unnest(${members.slice(i, i + 50_000)}::text[])`.execute(trx);
          }
        });
        const wiped = (await dropSession(key)) ?? { keyZeroed: true, threadCopiesZeroed: true };
        return { ok: true, phase: payload.phase, messages: [], wiped };
      } catch (e) {
        const wiped = await dropSession(key);
        return failed(payload.phase, e, wiped);
      }
    }
    case 'end': {
      // Any run of this step still held here is wiped; the job's members are deleted.
      let wiped: PsiWipeReport | undefined;
      for (const k of [...sessions.keys()]) {
        if (k.startsWith(`${payload.jobId}/${payload.stepId}/`)) wiped = await dropSession(k);
      }
      await deleteMembers(db, payload.jobId);
      return { ok: true, phase: payload.phase, messages: [], ...(wiped ? { wiped } : {}) };
    }
  }
}

/** A protocol failure or a refusal (a user error, e.g. LAB-E125) as an answer (bilingual, no item, no message content). */
function failed(phase: PsiPayload['phase'], e: unknown, wiped: PsiWipeReport | undefined): PsiOutcome {
  if (e instanceof LabError && (e.code === 'LAB-E164' || /^LAB-E10[0-8]$/.test(e.code) || e.kind === 'user')) {
    return { ok: false, phase, error: { code: e.code, zh: e.messageIn('zh-CN'), en: e.messageIn('en') }, ...(wiped ? { wiped } : {}) };
  }
  throw e;
}

/**
 * The domain worker's entry for the messages of this module and of follow-up reads: undefined when
 * `payload` is neither (a stage or another kind of message). A PSI failure the protocol detects is
 * an answer; LAB-E163 and operational errors are thrown so the queue retries.
 */
export async function handleProtocolMessage(db: Database, domain: DomainId, payload: unknown, signal: AbortSignal, log: { info(o: object, m: string): void }): Promise<PsiOutcome | SealedFollowUpRead | undefined> {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const type = (payload as { type?: unknown }).type;
  if (type === 'psi') {
    const parsed = psiPayloadSchema.safeParse(payload);
    if (!parsed.success) return { ok: false, phase: 'end', error: { code: 'LAB-E162', zh: '协议步骤消息格式错误', en: 'malformed protocol step message' } };
    const started = Date.now();
    const out = await executePsi(db, domain, parsed.data, signal);
    // Sizes and timing only: never an item, never a message's content.
    log.info({ jobId: parsed.data.jobId, stepId: parsed.data.stepId, run: parsed.data.run, phase: parsed.data.phase, ok: out.ok, messages: out.ok ? out.messages.length : 0, ms: Date.now() - started }, 'psi step');
    return out;
  }
  if (type === 'follow-up-read') {
    const { followUpReadSchema, readFollowUpsSealed } = await import('./follow-up.ts');
    const parsed = followUpReadSchema.safeParse(payload);
    if (!parsed.success) return { ok: false, error: { code: 'LAB-E003', zh: '消息格式错误', en: 'malformed message' } };
    return readFollowUpsSealed(db, parsed.data.listId, parsed.data.sealTo);
  }
  return undefined;
}
