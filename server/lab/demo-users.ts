import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema, UserRole } from '../db/control.schema.ts';
import { budgetRepository } from '../repositories/budget.repository.ts';
import { hashPassword } from '../services/auth.service.ts';
import { activePolicy } from '../services/policy.service.ts';
import { createUser } from '../services/user.service.ts';

export interface DemoUser { username: string; displayName: string; role: UserRole; domain?: DomainId; what: string }

/** The demo accounts (a contract: README, tests and other tools use these names). */
export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'analyst', displayName: '业务人员（演示）', role: 'analyst', what: 'business staff: builds pipelines / 业务人员' },
  { username: 'officer', displayName: '数据官（演示）', role: 'officer', what: 'data officer: approvals, review, policies, audit / 数据官' },
  { username: 'officer2', displayName: '数据官二（演示）', role: 'officer', what: 'second officer (two-officer approvals) / 第二数据官' },
  { username: 'researcher', displayName: '外部研究人员（演示）', role: 'researcher', what: 'external researcher: aggregates only, privacy budget / 研究人员' },
  ...DOMAIN_IDS.map((d): DemoUser => ({ username: `steward.${d}`, displayName: `${d} 数据管理员（演示）`, role: 'steward', domain: d, what: `steward of the ${d} domain / 域管理员` })),
  { username: 'admin', displayName: '系统管理员（演示）', role: 'admin', what: 'administrator / 系统管理员' },
];

/**
 * The demo password: LAB_DEMO_PASSWORD if set, else one generated at first start and kept in
 * <dataDir>/demo-password (mode 0600) so restarts keep working logins.
 */
export function demoPassword(dataDir: string, fromEnv: string | undefined): { password: string; generated: boolean } {
  if (fromEnv) return { password: fromEnv, generated: false };
  const file = join(dataDir, 'demo-password');
  if (existsSync(file)) return { password: readFileSync(file, 'utf8').trim(), generated: true };
  mkdirSync(dataDir, { recursive: true });
  const password = randomBytes(12).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return { password, generated: true };
}

/** Creates the demo accounts that are missing and sets every demo account's password to `password`. */
export async function ensureDemoUsers(control: Database<ControlSchema>, password: string): Promise<void> {
  const hash = await hashPassword(password);
  for (const u of DEMO_USERS) {
    const existing = await control.kysely.selectFrom('app_user').select('id').where('username', '=', u.username).executeTakeFirst();
    if (existing) {
      await control.kysely.updateTable('app_user').set({ password_hash: hash, failed_logins: 0, locked_until: null }).where('id', '=', existing.id).execute();
    } else {
      await createUser(control, { username: u.username, displayName: u.displayName, role: u.role, ...(u.domain ? { domain: u.domain } : {}), password });
    }
  }
  // The demo researcher works in one project, with the default privacy budget of the policy.
  const researcher = await control.kysely.selectFrom('app_user').select('id').where('username', '=', 'researcher').executeTakeFirst();
  if (researcher && (await budgetRepository.projectsOf(control.kysely, researcher.id)).length === 0) {
    const policy = await activePolicy(control);
    await budgetRepository.ensureProject(control.kysely, DEMO_PROJECT, '流动人口年龄结构研究（演示）');
    await budgetRepository.grant(control.kysely, { projectId: DEMO_PROJECT, userId: researcher.id, total: policy.params.dp.defaultProjectBudget });
  }
}

/** The demo researcher's project. */
export const DEMO_PROJECT = 'demo-floating-age';
