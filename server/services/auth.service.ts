import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ControlSchema, UserRole } from '../db/control.schema.ts';
import { clearFailedLogins, findUserByUsername, recordFailedLogin } from '../repositories/user.repository.ts';
import { deleteExpiredSessions, deleteSession, findSessionWithUser, insertSession, touchSession } from '../repositories/session.repository.ts';
import { ANONYMOUS_ACTOR, SYSTEM_ACTOR, auditTrailOf, userActor } from './audit.service.ts';

/**
 * Passwords, logins and sessions. Decisions live here; the queries are in the repositories.
 *
 * - Passwords: argon2id (library defaults: m = 19 MiB, t = 2, p = 1), PHC strings.
 * - Session token: 32 random bytes, base64url, sent only in the cookie. The database keeps its
 *   SHA-256 as `user_session.id`, so a leaked table does not yield usable cookies.
 * - CSRF token: 32 random bytes per session, returned at login, required on state-changing requests.
 * - Sessions expire after `ttlMs` without use (default 8 h) and are refreshed on use.
 * - Five consecutive failed logins lock the account for 15 minutes.
 * - Every sign-in, refused sign-in, lockout and sign-out is written to the audit trail (a refused
 *   sign-in as an anonymous actor naming the account, never the user name as typed).
 */

/** `Algorithm.Argon2id`: the enum is an ambient const enum, which `isolatedModules` cannot read. */
const ARGON2ID = 2 as Algorithm;

export const MAX_FAILED_LOGINS = 5;
export const LOCK_MS = 15 * 60 * 1000;
/** A session is written back (expiry extended) at most once per this interval. */
const TOUCH_INTERVAL_MS = 60 * 1000;

export interface SessionUser {
  id: number;
  username: string;
  displayName: string;
  role: UserRole;
  domain: string | null;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never authenticates
  }
}

let dummy: Promise<string> | undefined;
/** A hash of a random password, verified against for unknown users so they take as long as known ones. */
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(24).toString('base64url'));
  return dummy;
}
/** Computes the dummy hash ahead of the first login (the first unknown-user login would otherwise be slower). */
export async function primeAuth(): Promise<void> {
  await dummyHash();
}

export const sessionIdOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Constant-time comparison of two tokens (different lengths compare unequal). */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const badLogin = () => new LabError('LAB-E010');

/** Why a login failed, for the security log (the client sees only LAB-E010 / LAB-E013). */
export interface LoginFailure {
  reason: 'unknown-user' | 'bad-password' | 'disabled' | 'locked' | 'locked-now';
  userId?: number;
}

export interface LoginResult {
  user: SessionUser;
  /** The cookie value. Never stored, never logged. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

/**
 * Checks a username and password and opens a session. Unknown user, wrong password and disabled
 * user all fail with the same LAB-E010 after one argon2 verification each; a locked account
 * fails with LAB-E013 without checking the password.
 */
export async function login(
  control: Database<ControlSchema>,
  input: { username: string; password: string },
  opts: { ttlMs: number; now?: Date; onFailure?: (f: LoginFailure) => void },
): Promise<LoginResult> {
  const db = control.kysely;
  const now = opts.now ?? new Date();
  const audit = auditTrailOf(control);
  const fail = async (f: LoginFailure, e: LabError, lockedUntil?: Date): Promise<LabError> => {
    opts.onFailure?.(f);
    const account = { type: 'user', id: f.userId ?? null };
    await audit.append({ actor: ANONYMOUS_ACTOR, action: 'auth.login-refused', resource: account, detail: { reason: f.reason } });
    if (lockedUntil) await audit.append({ actor: SYSTEM_ACTOR, action: 'auth.lockout', resource: account, detail: { until: lockedUntil.toISOString(), failures: MAX_FAILED_LOGINS } });
    return e;
  };
  const user = await findUserByUsername(db, input.username);
  if (!user) {
    await verifyPassword(await dummyHash(), input.password);
    throw await fail({ reason: 'unknown-user' }, badLogin());
  }
  if (user.locked_until && user.locked_until.getTime() > now.getTime()) {
    throw await fail({ reason: 'locked', userId: user.id }, lockedError(user.locked_until, now));
  }
  const ok = await verifyPassword(user.password_hash, input.password);
  if (user.disabled) throw await fail({ reason: 'disabled', userId: user.id }, badLogin());
  if (!ok) {
    const after = await recordFailedLogin(db, user.id, now, MAX_FAILED_LOGINS, LOCK_MS);
    if (after.locked_until && after.locked_until.getTime() > now.getTime()) {
      throw await fail({ reason: 'locked-now', userId: user.id }, lockedError(after.locked_until, now), after.locked_until);
    }
    throw await fail({ reason: 'bad-password', userId: user.id }, badLogin());
  }
  if (user.failed_logins !== 0 || user.locked_until) await clearFailedLogins(db, user.id);
  await deleteExpiredSessions(db, now);
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + opts.ttlMs);
  await insertSession(db, { id: sessionIdOf(token), userId: user.id, csrfToken, now, expiresAt });
  await audit.append({ actor: userActor(user), action: 'auth.login', resource: { type: 'user', id: user.id } });
  return {
    user: { id: user.id, username: user.username, displayName: user.display_name, role: user.role, domain: user.domain },
    token, csrfToken, expiresAt,
  };
}

function lockedError(until: Date, now: Date): LabError {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return new LabError('LAB-E013', {
    detail: t(`请约 ${minutes} 分钟后再试`, `try again in about ${minutes} minute${minutes === 1 ? '' : 's'}`),
  });
}

export interface ResolvedSession {
  user: SessionUser;
  session: { id: string; csrfToken: string };
}

/**
 * The session a cookie token belongs to, or null when it is unknown, expired or its user is
 * disabled. Expired sessions are deleted; live ones are extended (at most once a minute).
 */
export async function resolveSession(
  control: Database<ControlSchema>,
  token: string,
  opts: { ttlMs: number; now?: Date },
): Promise<ResolvedSession | null> {
  const db = control.kysely;
  const now = opts.now ?? new Date();
  const id = sessionIdOf(token);
  const row = await findSessionWithUser(db, id);
  if (!row) return null;
  if (row.expires_at.getTime() <= now.getTime()) {
    await deleteSession(db, id);
    return null;
  }
  if (row.disabled) return null;
  if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_INTERVAL_MS) {
    await touchSession(db, id, now, new Date(now.getTime() + opts.ttlMs));
  }
  return {
    user: { id: row.user_id, username: row.username, displayName: row.display_name, role: row.role, domain: row.domain },
    session: { id, csrfToken: row.csrf_token },
  };
}

/** Ends a session; with `user` (a sign-out, not a session replaced at sign-in) it is written to the audit trail. */
export async function logout(control: Database<ControlSchema>, sessionId: string, user?: SessionUser): Promise<void> {
  await deleteSession(control.kysely, sessionId);
  if (user) await auditTrailOf(control).append({ actor: userActor(user), action: 'auth.logout', resource: { type: 'user', id: user.id } });
}
