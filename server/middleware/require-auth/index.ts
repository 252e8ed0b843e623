import type { MiddlewareHandler } from 'hono';
import { LabError, t } from '../../../sandbox/errors/index.ts';
import type { AppEnv } from '../../app-env.ts';
import type { UserRole } from '../../db/control.schema.ts';

/** Lets the request through only with a signed-in user (401 LAB-E011 otherwise). */
export function requireAuth(): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    if (!c.var.user) throw new LabError('LAB-E011');
    await next();
  };
}

/** Lets the request through only for a signed-in user with one of `roles` (401 / 403 LAB-E012). */
export function requireRole(...roles: readonly UserRole[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(roles);
  return async function requireRole(c, next) {
    const user = c.var.user;
    if (!user) throw new LabError('LAB-E011');
    if (!allowed.has(user.role)) {
      throw new LabError('LAB-E012', { detail: t(`需要角色：${roles.join('/')}`, `needs role: ${roles.join(', ')}`) });
    }
    await next();
  };
}
