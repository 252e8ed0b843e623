import type { Kysely } from 'kysely';
import type { ControlSchema } from '../db/control.schema.ts';
import { jsonb } from './jsonb.ts';

type Db = Kysely<ControlSchema>;

export interface PolicyVersionRow {
  version: number;
  cedar: string;
  params: unknown;
  hash: string;
  createdBy: number | null;
  comment: string;
  createdAt: Date;
}

const toRow = (r: { version: number; cedar: string; params: unknown; hash: string; created_by: number | null; comment: string; created_at: Date }): PolicyVersionRow => ({
  version: r.version, cedar: r.cedar, params: r.params, hash: r.hash, createdBy: r.created_by, comment: r.comment, createdAt: r.created_at,
});

export const policyRepository = {
  async latestVersion(db: Db): Promise<number | null> {
    const r = await db.selectFrom('policy_version').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
    return r?.v ?? null;
  },

  async find(db: Db, version: number): Promise<PolicyVersionRow | undefined> {
    const r = await db.selectFrom('policy_version').selectAll().where('version', '=', version).executeTakeFirst();
    return r ? toRow(r) : undefined;
  },

  async list(db: Db): Promise<Omit<PolicyVersionRow, 'cedar' | 'params'>[]> {
    const rows = await db.selectFrom('policy_version').select(['version', 'hash', 'created_by', 'comment', 'created_at']).orderBy('version', 'desc').execute();
    return rows.map((r) => ({ version: r.version, hash: r.hash, createdBy: r.created_by, comment: r.comment, createdAt: r.created_at }));
  },

  /** Inserts `version`; false when it exists already (a concurrent edit won). */
  async insert(db: Db, v: { version: number; cedar: string; params: unknown; hash: string; createdBy: number | null; comment: string }): Promise<boolean> {
    const r = await db.insertInto('policy_version')
      .values({ version: v.version, cedar: v.cedar, params: jsonb(v.params), hash: v.hash, created_by: v.createdBy, comment: v.comment })
      .onConflict((oc) => oc.column('version').doNothing())
      .returning('version')
      .executeTakeFirst();
    return r !== undefined;
  },
};
