import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { deleteCookie, setCookie } from 'hono/cookie';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { USER_ROLES, type UserRole } from '../db/control.schema.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { SESSION_COOKIE } from '../middleware/session/index.ts';
import { login, logout, type SessionUser } from '../services/auth.service.ts';
import { MAX_PASSWORD_LENGTH } from '../services/user.service.ts';
import { SESSION_AND_CSRF_SECURITY, SESSION_SECURITY, errors } from './common.schema.ts';

export const LoginRequestSchema = z.object({
  username: z.string().min(1).max(64).openapi({ example: 'analyst' }),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH).openapi({ format: 'password' }),
}).openapi('LoginRequest');

export const UserSchema = z.object({
  username: z.string(),
  displayName: z.string(),
  role: z.enum(USER_ROLES as [UserRole, ...UserRole[]]),
  domain: z.string().nullable().openapi({ description: 'the steward’s domain; null for every other role' }),
}).openapi('User');

export const SessionInfoSchema = z.object({
  user: UserSchema,
  csrfToken: z.string().openapi({ description: 'send as x-csrf-token on every POST/PUT/PATCH/DELETE' }),
}).openapi('SessionInfo');

export const loginRoute = createRoute({
  method: 'post',
  path: '/api/auth/login',
  tags: ['auth'],
  summary: 'Sign in; sets the lab_session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token',
  request: { body: { required: true, content: { 'application/json': { schema: LoginRequestSchema } } } },
  responses: {
    200: { description: 'signed in', content: { 'application/json': { schema: SessionInfoSchema } } },
    400: errors[400],
    401: { ...errors[401], description: 'LAB-E010: wrong user name or password (the same for unknown and disabled users)' },
    422: errors[422],
    429: errors[429],
  },
});

export const logoutRoute = createRoute({
  method: 'post',
  path: '/api/auth/logout',
  tags: ['auth'],
  summary: 'Sign out: deletes the session and clears the cookie (no-op without a session)',
  security: SESSION_AND_CSRF_SECURITY,
  responses: {
    204: { description: 'signed out' },
    403: errors[403],
  },
});

export const meRoute = createRoute({
  method: 'get',
  path: '/api/auth/me',
  tags: ['auth'],
  summary: 'The signed-in user and the session’s CSRF token',
  security: SESSION_SECURITY,
  middleware: [requireAuth()] as const,
  responses: {
    200: { description: 'the current session', content: { 'application/json': { schema: SessionInfoSchema } } },
    401: errors[401],
  },
});

const publicUser = (u: SessionUser) => ({ username: u.username, displayName: u.displayName, role: u.role, domain: u.domain });

export function registerAuthRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps, ttlMs: number): void {
  const cookieOptions = { httpOnly: true, sameSite: 'Strict', path: '/', secure: deps.config.secureCookies } as const;

  app.openapi(loginRoute, async (c) => {
    const body = c.req.valid('json');
    const result = await login(deps.control, body, {
      ttlMs,
      // Never the username as typed (people paste passwords into it), never the password.
      onFailure: (f) => { c.var.logger.warn({ reason: f.reason, ...(f.userId !== undefined ? { userId: f.userId } : {}) }, 'sign-in refused'); },
    });
    const previous = c.var.session;
    if (previous) await logout(deps.control, previous.id);
    setCookie(c, SESSION_COOKIE, result.token, cookieOptions);
    c.var.logger.info({ userId: result.user.id }, 'signed in');
    return c.json({ user: publicUser(result.user), csrfToken: result.csrfToken }, 200);
  });

  app.openapi(logoutRoute, async (c) => {
    const s = c.var.session;
    if (s) {
      await logout(deps.control, s.id, c.var.user);
      c.var.logger.info({ userId: c.var.user?.id }, 'signed out');
    }
    deleteCookie(c, SESSION_COOKIE, cookieOptions);
    return c.body(null, 204);
  });

  app.openapi(meRoute, (c) => {
    const user = c.var.user;
    const s = c.var.session;
    if (!user || !s) throw new LabError('LAB-E011'); // requireAuth guarantees both
    return c.json({ user: publicUser(user), csrfToken: s.csrfToken }, 200);
  });
}
