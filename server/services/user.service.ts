import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { USER_ROLES, type ControlSchema, type UserRole } from '../db/control.schema.ts';
import { insertUser } from '../repositories/user.repository.ts';
import { hashPassword, type SessionUser } from './auth.service.ts';

/** The same pattern as the `app_user.username` CHECK constraint. */
export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{1,63}$/;
export const MIN_PASSWORD_LENGTH = 12;
/** Bounds the work one login or user creation can ask argon2 to do. */
export const MAX_PASSWORD_LENGTH = 1024;

export interface NewUser {
  username: string;
  displayName: string;
  role: UserRole;
  /** Required for stewards (one of the six domains), absent for every other role. */
  domain?: string;
  password: string;
}

/**
 * Creates a user after validating it. Used by `npm run lab -- user add`, the demo seeding and
 * later the admin API. Validation failures are LAB-E003 naming the field; a taken username is
 * LAB-E014. The password is hashed (argon2id) and never stored, logged or echoed.
 */
export async function createUser(control: Database<ControlSchema>, input: NewUser): Promise<SessionUser> {
  const username = input.username;
  if (!USERNAME_PATTERN.test(username)) {
    throw invalid('username', t(
      '用户名须以小写字母开头，由 2–64 个小写字母、数字、点、下划线或连字符组成',
      'the user name must start with a lower-case letter and have 2–64 lower-case letters, digits, dots, underscores or hyphens',
    ));
  }
  const displayName = input.displayName.trim();
  if (displayName.length === 0 || displayName.length > 100) {
    throw invalid('displayName', t('显示名称须为 1–100 个字符', 'the display name must have 1–100 characters'));
  }
  const role = input.role;
  if (!USER_ROLES.includes(role)) throw invalid('role', t(`角色须为 ${USER_ROLES.join('/')}`, `the role must be one of ${USER_ROLES.join(', ')}`));
  let domain: string | null = null;
  if (role === 'steward') {
    if (input.domain === undefined || !(DOMAIN_IDS as readonly string[]).includes(input.domain)) {
      throw invalid('domain', t(`域管理员须指定所属域：${DOMAIN_IDS.join('/')}`, `a steward needs a domain: one of ${DOMAIN_IDS.join(', ')}`));
    }
    domain = input.domain;
  } else if (input.domain !== undefined) {
    throw invalid('domain', t('只有域管理员（steward）属于某个域', 'only stewards belong to a domain'));
  }
  // Length only: never put the password (or any part of it) into a message.
  if ([...input.password].length < MIN_PASSWORD_LENGTH) {
    throw invalid('password', t(`密码至少 ${MIN_PASSWORD_LENGTH} 个字符`, `the password needs at least ${MIN_PASSWORD_LENGTH} characters`));
  }
  if (input.password.length > MAX_PASSWORD_LENGTH) {
    throw invalid('password', t(`密码最多 ${MAX_PASSWORD_LENGTH} 个字符`, `the password may have at most ${MAX_PASSWORD_LENGTH} characters`));
  }
  const passwordHash = await hashPassword(input.password);
  const row = await insertUser(control.kysely, { username, displayName, role: role, domain, passwordHash });
  if (!row) {
    throw new LabError('LAB-E014', { detail: t(`用户名 ${username} 已被使用`, `the user name ${username} is taken`), field: 'username' });
  }
  return { id: row.id, username: row.username, displayName: row.display_name, role: row.role, domain: row.domain };
}

function invalid(field: string, detail: { zh: string; en: string }): LabError {
  return new LabError('LAB-E003', { detail, field });
}
