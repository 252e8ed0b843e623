import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { budgetRepository } from '../repositories/budget.repository.ts';
import type { SessionUser } from './auth.service.ts';
import { decide } from './policy.service.ts';

type Db = Database<ControlSchema>;

/** A user's own ε budgets, each shown only where the policy allows `budget.read`. */
export async function budgetsFor(db: Db, user: SessionUser) {
  const out = [];
  for (const b of await budgetRepository.budgetsOf(db.kysely, user.id)) {
    const d = await decide(db, user, 'budget.read', { type: 'Budget', id: `${user.id}:${b.project_id}`, ownerId: user.id, project: b.project_id });
    if (d.decision !== 'allow') continue;
    const charges = await budgetRepository.charges(db.kysely, user.id, b.project_id);
    out.push({
      projectId: b.project_id, total: b.total, spent: b.spent, remaining: (Number(b.total) - Number(b.spent)).toFixed(6),
      charges: charges.map((c) => ({ jobId: c.job_id, epsilon: c.epsilon, at: c.at.toISOString() })),
    });
  }
  return out;
}
