import { sql, type Kysely, type Selectable } from 'kysely';
import type { ControlSchema } from '../db/control.schema.ts';
import { jsonb } from './jsonb.ts';

/**
 * Kysely queries on the audit tables. No decisions, no hashing, no clock: the service computes
 * every value (seq, time, hashes, signatures) and hands it in. Functions take a `Kysely` so the
 * service can pass the caller's transaction.
 */
type Db = Kysely<ControlSchema>;
/** A stored entry, with its time also as text to the microsecond (`at_text`, ISO 8601 UTC): what was hashed. */
export type AuditEntryRow = Selectable<ControlSchema['audit_entry']> & { at_text: string };
export type AuditCheckpointRow = Selectable<ControlSchema['audit_checkpoint']>;
export type AuditHeadRow = Selectable<ControlSchema['audit_head']>;

export interface NewAuditEntryRow {
  seq: number;
  at: Date;
  actorKind: AuditEntryRow['actor_kind'];
  actorUserId: number | null;
  actorUsername: string | null;
  actorRole: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  decision: AuditEntryRow['decision'];
  policyVersion: string | null;
  pipelineHash: string | null;
  detail: unknown;
  prevHash: string;
  hash: string;
}

export const auditRepository = {
  /** The head row, locked until the transaction ends: appends and checkpoints queue here. */
  lockHead: (db: Db): Promise<AuditHeadRow> =>
    db.selectFrom('audit_head').selectAll().where('id', '=', 1).forUpdate().executeTakeFirstOrThrow(),
  readHead: (db: Db): Promise<AuditHeadRow | undefined> =>
    db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst(),
  moveHead: async (db: Db, head: { seq: number; hash: string }): Promise<void> => {
    await db.updateTable('audit_head').set({ seq: head.seq, hash: head.hash }).where('id', '=', 1).execute();
  },
  setHeadCheckpoint: async (db: Db, checkpointId: number): Promise<void> => {
    await db.updateTable('audit_head').set({ checkpoint_id: checkpointId }).where('id', '=', 1).execute();
  },
  insertEntry: async (db: Db, e: NewAuditEntryRow): Promise<void> => {
    await db.insertInto('audit_entry').values({
      seq: e.seq, at: e.at,
      actor_kind: e.actorKind, actor_user_id: e.actorUserId, actor_username: e.actorUsername, actor_role: e.actorRole,
      action: e.action, resource_type: e.resourceType, resource_id: e.resourceId,
      decision: e.decision, policy_version: e.policyVersion, pipeline_hash: e.pipelineHash,
      detail: jsonb(e.detail), prev_hash: e.prevHash, hash: e.hash,
    }).execute();
  },
  /** Entries with seq >= `fromSeq`, in seq order. */
  entriesFrom: (db: Db, fromSeq: number, limit: number): Promise<AuditEntryRow[]> =>
    db.selectFrom('audit_entry').selectAll()
      .select(sql<string>`to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('at_text'))
      .where('seq', '>=', fromSeq).orderBy('seq').limit(limit).execute(),
  /** The seq of the entry whose hash this is (the hash column is unique). */
  seqOfHash: async (db: Db, hash: string): Promise<number | undefined> =>
    (await db.selectFrom('audit_entry').select('seq').where('hash', '=', hash).executeTakeFirst())?.seq,
  countEntries: async (db: Db): Promise<number> =>
    Number((await db.selectFrom('audit_entry').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
  insertCheckpoint: async (db: Db, c: AuditCheckpointRow): Promise<void> => {
    await db.insertInto('audit_checkpoint').values(c).execute();
  },
  findCheckpoint: (db: Db, id: number): Promise<AuditCheckpointRow | undefined> =>
    db.selectFrom('audit_checkpoint').selectAll().where('id', '=', id).executeTakeFirst(),
  /** Every checkpoint in id order (one per N entries or T minutes: few next to the entries). */
  checkpoints: (db: Db): Promise<AuditCheckpointRow[]> =>
    db.selectFrom('audit_checkpoint').selectAll().orderBy('id').execute(),
};
