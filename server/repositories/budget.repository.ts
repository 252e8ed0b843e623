import { sql, type Kysely } from 'kysely';
import type { ControlSchema } from '../db/control.schema.ts';

type Db = Kysely<ControlSchema>;

/** Projects, members and the per-researcher-and-project ε ledger (exact decimals in Postgres). */
export const budgetRepository = {
  async projectsOf(db: Db, userId: number): Promise<string[]> {
    const rows = await db.selectFrom('project_member').select('project_id').where('user_id', '=', userId).orderBy('project_id').execute();
    return rows.map((r) => r.project_id);
  },

  async ensureProject(db: Db, id: string, name: string): Promise<void> {
    await db.insertInto('project').values({ id, name }).onConflict((oc) => oc.column('id').doNothing()).execute();
  },

  /** Adds the member and gives them `total` ε in the project (an existing budget keeps what it has spent). */
  async grant(db: Db, g: { projectId: string; userId: number; total: string }): Promise<void> {
    await db.insertInto('project_member').values({ project_id: g.projectId, user_id: g.userId }).onConflict((oc) => oc.columns(['project_id', 'user_id']).doNothing()).execute();
    await db.insertInto('dp_budget').values({ user_id: g.userId, project_id: g.projectId, total: g.total })
      .onConflict((oc) => oc.columns(['user_id', 'project_id']).doUpdateSet({ total: g.total })).execute();
  },

  async budgetsOf(db: Db, userId: number) {
    return db.selectFrom('dp_budget').select(['project_id', 'total', 'spent']).where('user_id', '=', userId).orderBy('project_id').execute();
  },

  async charges(db: Db, userId: number, projectId: string) {
    return db.selectFrom('dp_charge').select(['job_id', 'epsilon', 'at']).where('user_id', '=', userId).where('project_id', '=', projectId).orderBy('at').execute();
  },

  /**
   * Charges ε for a job, once, atomically: one statement that records the charge (keyed by job, so
   * a repeated dispatch charges nothing more) and raises `spent` only while it stays within
   * `total`. Returns false when the budget does not cover it (nothing is recorded then).
   */
  async charge(db: Db, c: { jobId: string; userId: number; projectId: string; epsilon: string }): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const prior = await trx.selectFrom('dp_charge').select('job_id').where('job_id', '=', c.jobId).executeTakeFirst();
      if (prior) return true;
      const updated = await trx.updateTable('dp_budget')
        .set({ spent: sql<string>`spent + ${c.epsilon}::numeric` })
        .where('user_id', '=', c.userId).where('project_id', '=', c.projectId)
        .where(sql<boolean>`spent + ${c.epsilon}::numeric <= total`)
        .returning('spent')
        .executeTakeFirst();
      if (!updated) return false;
      await trx.insertInto('dp_charge').values({ job_id: c.jobId, user_id: c.userId, project_id: c.projectId, epsilon: c.epsilon }).execute();
      return true;
    });
  },
};
