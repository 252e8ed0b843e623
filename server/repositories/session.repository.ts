import type { Kysely } from 'kysely';
import type { ControlSchema, UserRole } from '../db/control.schema.ts';

/** Kysely queries on `user_session`. `id` is the SHA-256 of the cookie token, never the token. */
type Db = Kysely<ControlSchema>;

export async function insertSession(db: Db, s: { id: string; userId: number; csrfToken: string; now: Date; expiresAt: Date }): Promise<void> {
  await db.insertInto('user_session')
    .values({ id: s.id, user_id: s.userId, csrf_token: s.csrfToken, created_at: s.now, last_seen_at: s.now, expires_at: s.expiresAt })
    .execute();
}

export interface SessionWithUser {
  id: string;
  csrf_token: string;
  expires_at: Date;
  last_seen_at: Date;
  user_id: number;
  username: string;
  display_name: string;
  role: UserRole;
  domain: string | null;
  disabled: boolean;
}

export function findSessionWithUser(db: Db, id: string): Promise<SessionWithUser | undefined> {
  return db.selectFrom('user_session as s')
    .innerJoin('app_user as u', 'u.id', 's.user_id')
    .select(['s.id', 's.csrf_token', 's.expires_at', 's.last_seen_at', 's.user_id', 'u.username', 'u.display_name', 'u.role', 'u.domain', 'u.disabled'])
    .where('s.id', '=', id)
    .executeTakeFirst();
}

export async function touchSession(db: Db, id: string, now: Date, expiresAt: Date): Promise<void> {
  await db.updateTable('user_session').set({ last_seen_at: now, expires_at: expiresAt }).where('id', '=', id).execute();
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('user_session').where('id', '=', id).execute();
}

export async function deleteExpiredSessions(db: Db, now: Date): Promise<number> {
  const r = await db.deleteFrom('user_session').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
