import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Database } from '../../../sandbox/store/database.ts';
import type { AppEnv } from '../../app-env.ts';
import type { ControlSchema } from '../../db/control.schema.ts';
import { resolveSession } from '../../services/auth.service.ts';

export const SESSION_COOKIE = 'lab_session';
/** 32 random bytes in base64url. Anything else is not looked up. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface SessionOptions {
  control: Database<ControlSchema>;
  ttlMs: number;
  /** Paths that never look at the session (health must answer even when the control DB does not). */
  skip?: readonly string[];
}

/**
 * Reads the session cookie and, when it names a live session of an enabled user, sets
 * `c.var.user` and `c.var.session`. Never rejects: `requireAuth` decides where a user is needed.
 */
export function session(options: SessionOptions): MiddlewareHandler<AppEnv> {
  const skip = new Set(options.skip ?? []);
  return async function session(c, next) {
    const token = skip.has(c.req.path) ? undefined : getCookie(c, SESSION_COOKIE);
    if (token !== undefined && TOKEN_SHAPE.test(token)) {
      const found = await resolveSession(options.control, token, { ttlMs: options.ttlMs });
      if (found) {
        c.set('user', found.user);
        c.set('session', found.session);
      }
    }
    await next();
  };
}
