import { sql } from 'kysely';
import { z } from 'zod';
import type { StaffGuardParams } from '../../disclosure/guard-params.ts';
import type { ReleasedTable } from '../../disclosure/released-table.ts';
import { guardForStaff } from '../../disclosure/staff-guard.ts';
import { GROUPING_COLUMN, UNITS_COLUMN, compileUnits } from '../../compile/plan.compile.ts';
import { LabError, t } from '../../errors/index.ts';
import type { FollowUpStage } from '../../plan/planner.ts';
import type { AggregateTable } from '../../pipeline/relation.ts';
import type { Database } from '../../store/database.ts';
import { sealTo } from '../../crypto/sealed-box.ts';
import { DEFAULT_STATEMENT_TIMEOUT_MS, snapshotDate } from './stage-executor.ts';

/** The one measure of a follow-up list's released table. */
export const FOLLOW_UP_MEASURE = 'listed';

/** The released table of a follow-up list: its count, through the staff guard (threshold, rounding). */
export function followUpTable(stage: FollowUpStage, count: number, guard: StaffGuardParams): ReleasedTable {
  const table: AggregateTable = {
    kind: 'table', domain: stage.domain, keys: [],
    measures: [{ name: FOLLOW_UP_MEASURE, kind: 'count_persons', label: stage.unitKind === 'house' ? { zh: '名单房屋数', en: 'Houses listed' } : { zh: '名单人数', en: 'Persons listed' } }],
    groupingSets: [[]], unitKind: stage.unitKind, level: 'L1', datasets: stage.datasets,
  };
  return guardForStaff(table, [{ [GROUPING_COLUMN]: 0, [UNITS_COLUMN]: count, [FOLLOW_UP_MEASURE]: count }], guard);
}

/**
 * Writes a follow-up list into this domain's outbox (replacing an earlier attempt of the same job
 * and node) and answers its guarded count. The rows never leave the domain here; stewards read them
 * through `readFollowUps`.
 */
export async function executeFollowUp(db: Database, stage: FollowUpStage, jobId: string, guard: StaffGuardParams, signal?: AbortSignal): Promise<ReleasedTable> {
  if (stage.unitKind === 'event') throw new LabError('LAB-E165', { detail: t('随访名单须以人员或房屋为单位', 'a follow-up list lists persons or houses'), nodeId: stage.id });
  const asOf = await snapshotDate(db);
  const q = compileUnits(stage.rel, stage.unitColumn, asOf, { jobId });
  const rows = await db.readOnlyQuery<{ unit: string }>(q.sql, q.parameters, { timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  if (signal?.aborted) throw new LabError('LAB-E073', { detail: t('阶段已取消', 'the stage was cancelled') });
  const units = rows.map((r) => r.unit);
  const listId = `${jobId}~${stage.id}`;
  await db.kysely.transaction().execute(async (trx) => {
    await sql`DELETE FROM lab_follow_up_list WHERE list_id = ${listId}`.execute(trx);
    await sql`INSERT INTO lab_follow_up_list (list_id, job_id, node_id, title, unit_kind, row_count) VALUES (${listId}, ${jobId}, ${stage.id}, ${stage.title}, ${stage.unitKind}, ${units.length})`.execute(trx);
    for (let i = 0; i < units.length; i += 50_000) {
      await sql`INSERT INTO lab_follow_up_row (list_id, unit) SELECT ${listId}, unnest(${units.slice(i, i + 50_000)}::text[])`.execute(trx);
    }
  });
  return followUpTable(stage, units.length, guard);
}

/** A steward's request for this domain's follow-up lists, relayed by the server over the queue. */
export const followUpReadSchema = z.object({
  type: z.literal('follow-up-read'),
  /** Absent: the list of lists; present: that list's rows. */
  listId: z.string().regex(/^[A-Za-z0-9_-]{1,64}~[A-Za-z][A-Za-z0-9_-]{0,63}$/).optional(),
  /** The requester's one-time public key (base64, 32 bytes): the answer is sealed to it. */
  sealTo: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
}).strict();

export interface FollowUpListInfo {
  readonly listId: string;
  readonly jobId: string;
  readonly title: string;
  readonly unitKind: 'person' | 'house';
  readonly count: number;
  readonly createdAt: string;
}

/** What crosses the queue: the outcome sealed to the requester's key (base64), or a refusal in clear. */
export type SealedFollowUpRead = { readonly ok: true; readonly sealed: string } | { readonly ok: false; readonly error: { readonly code: string; readonly zh: string; readonly en: string } };

export type FollowUpReadOutcome =
  | { readonly ok: true; readonly lists: readonly FollowUpListInfo[] }
  | { readonly ok: true; readonly list: FollowUpListInfo; readonly rows: readonly string[] }
  | { readonly ok: false; readonly error: { readonly code: string; readonly zh: string; readonly en: string } };

/** Reads this domain's outbox for its stewards (the server checked who asks before sending). */
export async function readFollowUps(db: Database, listId: string | undefined): Promise<FollowUpReadOutcome> {
  const lists = await db.readOnlyQuery<{ list_id: string; job_id: string; title: string; unit_kind: 'person' | 'house'; row_count: number; created_at: string }>(
    `SELECT list_id, job_id, title, unit_kind, row_count, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at FROM lab_follow_up_list${listId === undefined ? '' : ' WHERE list_id = $1'} ORDER BY created_at DESC, list_id LIMIT 1000`,
    listId === undefined ? [] : [listId], { timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS });
  const infos = lists.map((l): FollowUpListInfo => ({ listId: l.list_id, jobId: l.job_id, title: l.title, unitKind: l.unit_kind, count: Number(l.row_count), createdAt: l.created_at }));
  if (listId === undefined) return { ok: true, lists: infos };
  const [list] = infos;
  if (!list) return { ok: false, error: { code: 'LAB-E166', zh: '没有该随访名单', en: 'no such follow-up list' } };
  const rows = await db.readOnlyQuery<{ unit: string }>('SELECT unit FROM lab_follow_up_row WHERE list_id = $1 ORDER BY unit', [listId], { timeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS });
  return { ok: true, list, rows: rows.map((r) => r.unit) };
}

/** `readFollowUps`, its answer sealed to the requester's one-time key (only the server's request can open it). */
export async function readFollowUpsSealed(db: Database, listId: string | undefined, publicKey: string): Promise<SealedFollowUpRead> {
  const out = await readFollowUps(db, listId);
  if (!out.ok) return out;
  return { ok: true, sealed: sealTo(Buffer.from(publicKey, 'base64'), Buffer.from(JSON.stringify(out), 'utf8')).toString('base64') };
}
