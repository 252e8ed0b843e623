import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import { LabError, isLabError, t } from '../../sandbox/errors/index.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { AuditDecision, ControlSchema } from '../db/control.schema.ts';
import { auditRepository, type AuditCheckpointRow, type AuditEntryRow } from '../repositories/audit.repository.ts';
import {
  GENESIS_HASH, canonicalJson, checkpointMessage, entryHash, isoMicros,
  type AuditActor, type AuditRecord, type JsonValue,
} from './audit-chain.ts';
import type { AuditKey } from './audit-key.ts';
import type { SessionUser } from './auth.service.ts';

/**
 * The audit trail (DESIGN I5): an append-only, hash-chained log of every decision and action, with
 * checkpoints signed by the coordinator's Ed25519 key. No HTTP here: the server, the workers' host
 * and the CLI all use it.
 *
 * - `auditTrailOf(control)` is the trail of a control database (the one the boot sequence made
 *   with the signing key, else an unsigned one).
 * - `append(entry, trx?)` adds one entry. Pass the caller's transaction when there is one, so the
 *   action and its entry commit (or roll back) together; never call it without `trx` while holding
 *   another transaction on the same database (PGlite has one connection: that would wait forever).
 *   Appends queue on the one-row `audit_head` (SELECT … FOR UPDATE), so the chain never forks; the
 *   lock is held until the caller's transaction ends, so keep those transactions short.
 * - Every `checkpointEvery` entries (and whenever `checkpoint()` is called, e.g. by the timer of
 *   `startAuditCheckpoints`) the head is signed, when the trail has a signing key.
 * - `verify()` walks the chain and the checkpoints and names the first bad entry.
 * - A failed append fails the action (LAB-E093): nothing happens unrecorded.
 */

export type { AuditActor, JsonValue } from './audit-chain.ts';

export interface AuditEntryInput {
  readonly actor: AuditActor;
  /** Dotted, lower case: `auth.login`, `pipeline.save`, `job.run`, `job.result.read`, `approval.grant` … */
  readonly action: string;
  readonly resource: { readonly type: string; readonly id?: string | number | null };
  readonly decision?: AuditDecision | null;
  /** The version of the policy that decided (the policy engine's integer version, or a label). */
  readonly policyVersion?: string | number | null;
  readonly pipelineHash?: string | null;
  /**
   * A few facts about the action (reason, counts, state, stage ids): at most 2 KB of JSON. Never
   * personal data, never rows, never a secret or the username typed at a failed login.
   */
  readonly detail?: { readonly [key: string]: JsonValue | undefined };
}

export interface AppendedEntry {
  readonly seq: number;
  readonly hash: string;
  readonly at: Date;
}

export interface AuditCheckpoint {
  readonly id: number;
  readonly seq: number;
  readonly headHash: string;
  readonly at: Date;
  readonly keyId: string;
}

export type AuditBreak =
  | 'gap'                       // an entry is missing (deleted), or the chain ends before what the head or a checkpoint says
  | 'hash-mismatch'             // the entry's contents no longer give its stored hash (edited)
  | 'reordered'                 // the entry links to an entry that is not its predecessor
  | 'broken-link'               // the entry links to a hash no entry has (its predecessor was changed or removed)
  | 'head-mismatch'             // the head row disagrees with the last entry
  | 'checkpoint-gap'            // a checkpoint is missing
  | 'checkpoint-signature'      // a checkpoint's signature, or its link to the previous checkpoint, is wrong
  | 'checkpoint-key-unknown'    // signed with a key this verifier does not hold
  | 'checkpoint-head-mismatch'; // the chain at the checkpoint's seq is not what was signed (rewritten)

export interface AuditVerifyReport {
  readonly ok: boolean;
  /** Entries checked (all of them when ok). */
  readonly entries: number;
  /** Checkpoints whose signature checked out. */
  readonly checkpoints: number;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly firstBad: {
    readonly seq: number;
    readonly reason: AuditBreak;
    readonly checkpointId?: number;
    readonly message: { readonly zh: string; readonly en: string };
  } | null;
}

export interface AuditTrailOptions {
  /** Signs checkpoints and checks them at verify. Without it no checkpoint is written, and verify reports existing ones as unknown-key. */
  readonly key?: AuditKey;
  /** A checkpoint after every this many entries (0: only on demand). Default 100. */
  readonly checkpointEvery?: number;
  /** The time of each entry (tests); default the wall clock. */
  readonly clock?: () => Date;
}

export interface AuditTrail {
  readonly canSign: boolean;
  append(entry: AuditEntryInput, trx?: Transaction<ControlSchema>): Promise<AppendedEntry>;
  /** Signs the current head unless it is already the latest checkpoint. Null without a signing key or with no entries. */
  checkpoint(trx?: Transaction<ControlSchema>): Promise<AuditCheckpoint | null>;
  verify(): Promise<AuditVerifyReport>;
  /** Entries from `from` (seq, default 1) in seq order, and the head's seq. */
  list(q: { from?: number; limit: number }): Promise<{ entries: AuditEntryView[]; headSeq: number }>;
}

export interface AuditEntryView {
  seq: number;
  at: string;
  actor: { kind: AuditActor['kind']; userId: number | null; username: string | null; role: string | null };
  action: string;
  resource: { type: string; id: string | null };
  decision: AuditDecision | null;
  policyVersion: string | null;
  pipelineHash: string | null;
  detail: unknown;
  hash: string;
}

const MAX_DETAIL_BYTES = 2048;
const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

/** The actor of a signed-in user. */
export const userActor = (u: Pick<SessionUser, 'id' | 'username' | 'role'>): AuditActor => ({ kind: 'user', id: u.id, username: u.username, role: u.role });
export const SYSTEM_ACTOR: AuditActor = { kind: 'system' };
export const ANONYMOUS_ACTOR: AuditActor = { kind: 'anonymous' };

const malformed = (en: string) => new LabError('LAB-E091', { detail: t(en, en) });

function text(value: string | null | undefined, what: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || value.includes('\u0000')) throw malformed(`${what} must be 1–${max} characters`);
  return value;
}

/** Checks an input and turns it into the record that is hashed (seq and time still to come). */
function normalise(e: AuditEntryInput): Omit<AuditRecord, 'seq' | 'at'> {
  if (typeof e.action !== 'string' || e.action.length > 64 || !NAME.test(e.action)) throw malformed(`action ${JSON.stringify(e.action)} is not a dotted lower-case name`);
  if (typeof e.resource.type !== 'string' || e.resource.type.length > 64 || !NAME.test(e.resource.type)) throw malformed(`resource type ${JSON.stringify(e.resource.type)} is not a lower-case name`);
  const a = e.actor;
  if (a.kind === 'user' && (!Number.isSafeInteger(a.id) || text(a.username, 'actor username', 64) === null || text(a.role, 'actor role', 32) === null)) throw malformed('a user actor needs id, username and role');
  const rid = e.resource.id;
  // Detail goes through JSON once so what is hashed is what jsonb gives back (undefined keys dropped).
  const detail = JSON.parse(JSON.stringify(e.detail ?? {})) as { [key: string]: JsonValue };
  if (Buffer.byteLength(canonicalJson(detail), 'utf8') > MAX_DETAIL_BYTES) throw malformed(`detail is larger than ${MAX_DETAIL_BYTES} bytes`);
  return {
    actor: a.kind === 'user' ? { kind: 'user', id: a.id, username: a.username, role: a.role } : { kind: a.kind },
    action: e.action,
    resource: { type: e.resource.type, id: text(rid === undefined || rid === null ? null : String(rid), 'resource id', 200) },
    decision: e.decision ?? null,
    policyVersion: text(e.policyVersion === undefined || e.policyVersion === null ? null : String(e.policyVersion), 'policy version', 128),
    pipelineHash: text(e.pipelineHash, 'pipeline hash', 128),
    detail,
  };
}

/** A stored row as the record that was hashed. */
export function recordOf(row: AuditEntryRow): AuditRecord {
  const actor: AuditActor = row.actor_kind === 'user'
    ? { kind: 'user', id: Number(row.actor_user_id), username: row.actor_username ?? '', role: row.actor_role ?? '' }
    : { kind: row.actor_kind };
  return {
    seq: Number(row.seq),
    at: row.at_text,
    actor,
    action: row.action,
    resource: { type: row.resource_type, id: row.resource_id },
    decision: row.decision,
    policyVersion: row.policy_version,
    pipelineHash: row.pipeline_hash,
    detail: row.detail as { [key: string]: JsonValue },
  };
}

/** Ids, seqs and times read from either engine as plain values. */
const checkpointOf = (c: AuditCheckpointRow): AuditCheckpoint => ({ id: Number(c.id), seq: Number(c.seq), headHash: c.head_hash, at: new Date(c.at), keyId: c.key_id });

/** One trail per control database handle (appends must queue on one head anyway). */
const trails = new WeakMap<Database<ControlSchema>, AuditTrail>();

/**
 * The audit trail of this control database: the one `createAuditTrail` made for it (the boot
 * sequence does, with the signing key), else an unsigned one made now. Services call this, so
 * nothing has to thread the trail through every signature.
 */
export function auditTrailOf(control: Database<ControlSchema>): AuditTrail {
  let trail = trails.get(control);
  if (!trail) {
    trail = createAuditTrail(control);
  }
  return trail;
}

/** Makes the trail of `control` (replacing any made before for the same handle) and returns it. */
export function createAuditTrail(control: Database<ControlSchema>, opts: AuditTrailOptions = {}): AuditTrail {
  const trail = makeTrail(control, opts);
  trails.set(control, trail);
  return trail;
}

function makeTrail(control: Database<ControlSchema>, opts: AuditTrailOptions): AuditTrail {
  const clock = opts.clock ?? (() => new Date());
  const every = opts.checkpointEvery ?? 100;
  if (!Number.isInteger(every) || every < 0) throw new Error('checkpointEvery must be a whole number >= 0');
  const key = opts.key;

  /** In the caller's transaction, or in one of its own. */
  const inTransaction = <T>(trx: Transaction<ControlSchema> | undefined, fn: (db: Transaction<ControlSchema>) => Promise<T>): Promise<T> =>
    trx ? fn(trx) : control.kysely.transaction().execute(fn);

  /** Signs the head; the caller holds the head lock. */
  async function signHead(db: Kysely<ControlSchema>, head: { seq: number; hash: string; checkpointId: number }): Promise<AuditCheckpoint | null> {
    const signer = key?.sign;
    if (!key || !signer || head.seq === 0) return null;
    const previous = head.checkpointId > 0 ? await auditRepository.findCheckpoint(db, head.checkpointId) : undefined;
    if (previous && Number(previous.seq) === head.seq && previous.head_hash === head.hash) return checkpointOf(previous);
    const claim = { id: head.checkpointId + 1, seq: head.seq, headHash: head.hash, at: clock(), keyId: key.keyId, prevSignature: previous?.signature ?? '' };
    const signature = signer(checkpointMessage(claim));
    await auditRepository.insertCheckpoint(db, {
      id: claim.id, seq: claim.seq, head_hash: claim.headHash, at: claim.at, key_id: claim.keyId, prev_signature: claim.prevSignature, signature,
    });
    await auditRepository.setHeadCheckpoint(db, claim.id);
    return { id: claim.id, seq: claim.seq, headHash: claim.headHash, at: claim.at, keyId: claim.keyId };
  }

  const failClosed = (cause: unknown): never => {
    if (isLabError(cause)) throw cause;
    throw new LabError('LAB-E093', { cause });
  };

  return {
    canSign: key?.sign !== undefined,

    async append(entry, trx) {
      const base = normalise(entry);
      try {
        return await inTransaction(trx, async (db) => {
          const head = await auditRepository.lockHead(db);
          const seq = Number(head.seq) + 1;
          const at = new Date(clock().getTime()); // whole milliseconds: stored exactly
          const record: AuditRecord = { ...base, seq, at: isoMicros(at) };
          const hash = entryHash(head.hash, record);
          const a = record.actor;
          await auditRepository.insertEntry(db, {
            seq, at,
            actorKind: a.kind, actorUserId: a.kind === 'user' ? a.id : null, actorUsername: a.kind === 'user' ? a.username : null, actorRole: a.kind === 'user' ? a.role : null,
            action: record.action, resourceType: record.resource.type, resourceId: record.resource.id,
            decision: record.decision, policyVersion: record.policyVersion, pipelineHash: record.pipelineHash,
            detail: record.detail, prevHash: head.hash, hash,
          });
          await auditRepository.moveHead(db, { seq, hash });
          if (every > 0 && seq % every === 0) await signHead(db, { seq, hash, checkpointId: Number(head.checkpoint_id) });
          return { seq, hash, at };
        });
      } catch (e) {
        return failClosed(e);
      }
    },

    async checkpoint(trx) {
      if (!key?.sign) return null;
      return inTransaction(trx, async (db) => {
        const head = await auditRepository.lockHead(db);
        return signHead(db, { seq: Number(head.seq), hash: head.hash, checkpointId: Number(head.checkpoint_id) });
      });
    },

    verify: () => verifyAuditTrail(control.kysely, key),

    async list(q) {
      const from = Math.max(1, Math.floor(q.from ?? 1));
      const limit = Math.min(500, Math.max(1, Math.floor(q.limit)));
      const rows = await auditRepository.entriesFrom(control.kysely, from, limit);
      const head = await auditRepository.readHead(control.kysely);
      return {
        headSeq: Number(head?.seq ?? 0),
        entries: rows.map((r) => ({
          seq: Number(r.seq), at: new Date(r.at).toISOString(),
          actor: { kind: r.actor_kind, userId: r.actor_user_id === null ? null : Number(r.actor_user_id), username: r.actor_username, role: r.actor_role },
          action: r.action, resource: { type: r.resource_type, id: r.resource_id },
          decision: r.decision, policyVersion: r.policy_version, pipelineHash: r.pipeline_hash, detail: r.detail, hash: r.hash,
        })),
      };
    },
  };
}

const PAGE = 1000;

/**
 * Walks the chain in seq order and the checkpoints in id order; stops at the first problem.
 * Reads one snapshot (a read-only REPEATABLE READ transaction), so appends running meanwhile neither
 * disturb nor fool it. On PGlite (one connection) appends wait until it is done.
 */
export function verifyAuditTrail(db: Kysely<ControlSchema>, key: AuditKey | undefined): Promise<AuditVerifyReport> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((trx) => verifySnapshot(trx, key));
}

async function verifySnapshot(db: Kysely<ControlSchema>, key: AuditKey | undefined): Promise<AuditVerifyReport> {
  const headRow = await auditRepository.readHead(db);
  const head = { seq: Number(headRow?.seq ?? 0), hash: headRow?.hash ?? GENESIS_HASH };
  const headCheckpoint = Number(headRow?.checkpoint_id ?? 0);
  const cps = await auditRepository.checkpoints(db);
  type Bad = NonNullable<AuditVerifyReport['firstBad']>;

  // 1. The checkpoints among themselves: numbered 1, 2, …; each signed by our key; each linking the previous signature.
  let cpBad: Bad | null = null;
  const good: AuditCheckpointRow[] = [];
  {
    let prevSig = '';
    for (const [i, c] of cps.entries()) {
      const id = Number(c.id);
      const seq = Number(c.seq);
      if (id !== i + 1) {
        cpBad = { seq, reason: 'checkpoint-gap', checkpointId: i + 1, message: t(`签名检查点 ${i + 1} 缺失`, `checkpoint ${i + 1} is missing`) };
        break;
      }
      if (!key || c.key_id !== key.keyId) {
        cpBad = { seq, reason: 'checkpoint-key-unknown', checkpointId: id, message: t(`检查点 ${id} 由未知密钥 ${c.key_id} 签名`, `checkpoint ${id} is signed by key ${c.key_id}, which this verifier does not hold`) };
        break;
      }
      const claim = { id, seq, headHash: c.head_hash, at: new Date(c.at), keyId: c.key_id, prevSignature: c.prev_signature };
      if (c.prev_signature !== prevSig || !key.verify(checkpointMessage(claim), c.signature)) {
        cpBad = { seq, reason: 'checkpoint-signature', checkpointId: id, message: t(`检查点 ${id} 的签名无效`, `checkpoint ${id} has a bad signature`) };
        break;
      }
      good.push(c);
      prevSig = c.signature;
    }
    if (!cpBad && cps.length < headCheckpoint) {
      const last = cps.at(-1);
      cpBad = {
        seq: last ? Number(last.seq) + 1 : 1, reason: 'checkpoint-gap', checkpointId: cps.length + 1,
        message: t(`最新的检查点 ${cps.length + 1}–${headCheckpoint} 缺失`, `the latest checkpoints ${cps.length + 1}–${headCheckpoint} are missing`),
      };
    }
  }
  const bySeq = new Map<number, AuditCheckpointRow[]>();
  for (const c of good) {
    const list = bySeq.get(Number(c.seq)) ?? [];
    list.push(c);
    bySeq.set(Number(c.seq), list);
  }

  // 2. The entries, in seq order.
  let expected = 1;
  let prev = GENESIS_HASH;
  let lastGoodCheckpointSeq = 0;
  const report = (firstBad: Bad | null): AuditVerifyReport => ({ ok: firstBad === null, entries: expected - 1, checkpoints: good.length, head, firstBad });
  for (;;) {
    const page = await auditRepository.entriesFrom(db, expected, PAGE);
    for (const row of page) {
      const seq = Number(row.seq);
      if (cpBad && seq > cpBad.seq) return report(cpBad);
      if (seq !== expected) {
        return report({ seq: expected, reason: 'gap', message: t(`第 ${expected} 条记录缺失（下一条是 ${seq}）`, `entry ${expected} is missing (the next one is ${seq})`) });
      }
      if (row.prev_hash !== prev) {
        const other = await auditRepository.seqOfHash(db, row.prev_hash);
        return report(other !== undefined
          ? { seq, reason: 'reordered', message: t(`第 ${seq} 条记录接在第 ${other} 条之后，顺序被改动`, `entry ${seq} follows entry ${other}: the order was changed`) }
          : { seq, reason: 'broken-link', message: t(`第 ${seq} 条记录的前序哈希不属于任何记录`, `entry ${seq} links to a hash no entry has`) });
      }
      if (entryHash(row.prev_hash, recordOf(row)) !== row.hash) {
        return report({ seq, reason: 'hash-mismatch', message: t(`第 ${seq} 条记录内容与其哈希不符（被修改）`, `entry ${seq} does not match its hash (it was changed)`) });
      }
      for (const c of bySeq.get(seq) ?? []) {
        if (c.head_hash !== row.hash) {
          const since = lastGoodCheckpointSeq + 1;
          return report({
            seq, reason: 'checkpoint-head-mismatch', checkpointId: Number(c.id),
            message: t(`检查点 ${c.id} 签署的第 ${seq} 条哈希与现有记录不符：第 ${since}–${seq} 条之间的记录被重写`, `checkpoint ${c.id} signed a different hash for entry ${seq}: entries ${since}–${seq} were rewritten`),
          });
        }
        lastGoodCheckpointSeq = seq;
      }
      prev = row.hash;
      expected = seq + 1;
    }
    if (page.length < PAGE) break;
  }
  return report(finalChecks());

  function finalChecks(): Bad | null {
    const last = expected - 1;
    if (cpBad) return cpBad;
    const beyond = good.find((c) => Number(c.seq) > last);
    if (beyond) return { seq: last + 1, reason: 'gap', checkpointId: Number(beyond.id), message: t(`检查点 ${beyond.id} 覆盖到第 ${beyond.seq} 条，但记录止于第 ${last} 条`, `checkpoint ${beyond.id} covers entries up to ${beyond.seq}, but the trail ends at ${last}`) };
    if (head.seq > last) return { seq: last + 1, reason: 'gap', message: t(`记录止于第 ${last} 条，链头为第 ${head.seq} 条`, `the trail ends at entry ${last}, but its head is entry ${head.seq}`) };
    if (head.seq < last) return { seq: head.seq + 1, reason: 'head-mismatch', message: t(`链头为第 ${head.seq} 条，其后却还有记录`, `the head is entry ${head.seq}, yet entries follow it`) };
    if (cps.length > headCheckpoint) return { seq: last, reason: 'head-mismatch', message: t('链头记录的检查点数与检查点表不符', 'the head counts fewer checkpoints than there are') };
    if (head.hash !== prev) return { seq: last, reason: 'head-mismatch', message: t(`链头哈希与第 ${last} 条记录不符`, `the head's hash does not match entry ${last}`) };
    return null;
  }
}

/**
 * Writes a checkpoint every `everyMs` when entries were added since the last one (and a last one on
 * `stop()`). Timers are unref'd: they never keep the process alive.
 */
export function startAuditCheckpoints(trail: AuditTrail, opts: { everyMs: number; logger: Logger }): { stop(): Promise<void> } {
  if (!trail.canSign) return { stop: () => Promise.resolve() };
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = trail.checkpoint().then(
      (c) => { if (c) opts.logger.debug({ checkpoint: c.id, seq: c.seq }, 'audit checkpoint'); },
      (e: unknown) => { opts.logger.error({ err: e }, 'audit checkpoint failed'); },
    );
  };
  const timer = setInterval(tick, opts.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      tick();
      await running;
    },
  };
}

/** What the policy engine decided about reading the trail (the route asks it: `audit.read` / `audit.verify`). */
export interface ReaderDecision { readonly allowed: boolean; readonly policyVersion: number }

/** Applies the policy's decision (a refusal is recorded too), then records the read or the verification. */
async function asReader<T>(trail: AuditTrail, user: SessionUser, action: 'audit.read' | 'audit.verify', decision: ReaderDecision, run: () => Promise<T>, detail: (r: T) => AuditEntryInput['detail']): Promise<T> {
  if (!decision.allowed) {
    await trail.append({ actor: userActor(user), action, resource: { type: 'audit-trail' }, decision: 'deny', policyVersion: decision.policyVersion });
    throw new LabError('LAB-E137', { detail: t('只有数据官和管理员可以查看审计日志', 'only officers and admins may read the audit trail') });
  }
  const result = await run();
  await trail.append({ actor: userActor(user), action, resource: { type: 'audit-trail' }, decision: 'allow', policyVersion: decision.policyVersion, detail: detail(result) });
  return result;
}

/** A page of the trail for a reader (officer, admin); the read is itself recorded. */
export function readAuditPage(trail: AuditTrail, user: SessionUser, decision: ReaderDecision, q: { from?: number; limit: number }) {
  return asReader(trail, user, 'audit.read', decision, () => trail.list(q), (r) => ({ from: r.entries[0]?.seq ?? null, count: r.entries.length }));
}

/** Verifies the trail for a reader (officer, admin); the verification is itself recorded. */
export function verifyAuditFor(trail: AuditTrail, user: SessionUser, decision: ReaderDecision): Promise<AuditVerifyReport> {
  return asReader(trail, user, 'audit.verify', decision, () => trail.verify(), (r) => ({ ok: r.ok, entries: r.entries, firstBad: r.firstBad ? { seq: r.firstBad.seq, reason: r.firstBad.reason } : null }));
}
