import { sql, type Kysely, type Selectable } from 'kysely';
import type { ControlSchema, UserRole } from '../db/control.schema.ts';

/** Kysely queries on `app_user`. No decisions here: those live in the services. */
type Db = Kysely<ControlSchema>;
export type UserRow = Selectable<ControlSchema['app_user']>;

export function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('app_user').selectAll().where('username', '=', username).executeTakeFirst();
}

export function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface NewUserRow {
  username: string;
  displayName: string;
  role: UserRole;
  domain: string | null;
  passwordHash: string;
}

/** Inserts a user; returns undefined when the username is taken (unique violation, race-free). */
export async function insertUser(db: Db, u: NewUserRow): Promise<UserRow | undefined> {
  return db.insertInto('app_user')
    .values({ username: u.username, display_name: u.displayName, role: u.role, domain: u.domain, password_hash: u.passwordHash })
    .onConflict((oc) => oc.column('username').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Counts one failed login atomically. A lock that has run out starts a fresh count; reaching
 * `maxFailures` sets `locked_until = now + lockMs`. Returns the new count and lock.
 */
export async function recordFailedLogin(db: Db, id: number, now: Date, maxFailures: number, lockMs: number): Promise<{ failed_logins: number; locked_until: Date | null }> {
  const lockUntil = new Date(now.getTime() + lockMs);
  const expired = sql<boolean>`(locked_until IS NOT NULL AND locked_until <= ${now})`;
  const next = sql<number>`CASE WHEN ${expired} THEN 1 ELSE failed_logins + 1 END`;
  const row = await db.updateTable('app_user')
    .set({
      failed_logins: next,
      locked_until: sql<Date | null>`CASE WHEN ${next} >= ${maxFailures} THEN ${lockUntil}::timestamptz WHEN ${expired} THEN NULL ELSE locked_until END`,
    })
    .where('id', '=', id)
    .returning(['failed_logins', 'locked_until'])
    .executeTakeFirstOrThrow();
  return row;
}

export async function clearFailedLogins(db: Db, id: number): Promise<void> {
  await db.updateTable('app_user').set({ failed_logins: 0, locked_until: null }).where('id', '=', id).execute();
}
