import type { MiddlewareHandler } from 'hono';
import { LabError, t } from '../../../sandbox/errors/index.ts';
import type { AppEnv } from '../../app-env.ts';
import { tokensEqual } from '../../services/auth.service.ts';

export const CSRF_HEADER = 'x-csrf-token';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface CsrfOptions {
  /** Paths that never need the token (login: there is no session token yet). */
  exempt?: readonly string[];
}

/**
 * Every state-changing request made with a live session must carry the session's CSRF token in
 * `x-csrf-token` (403 LAB-E012 otherwise). Requests without a session are anonymous here and
 * meet `requireAuth` on any route that needs a user. Runs after `session`.
 */
export function csrf(options: CsrfOptions = {}): MiddlewareHandler<AppEnv> {
  const exempt = new Set(options.exempt ?? []);
  return async function csrf(c, next) {
    const s = c.var.session;
    if (s && STATE_CHANGING.has(c.req.method) && !exempt.has(c.req.path)) {
      const sent = c.req.header(CSRF_HEADER);
      if (sent === undefined || !tokensEqual(sent, s.csrfToken)) {
        throw new LabError('LAB-E012', {
          detail: t('缺少或错误的 CSRF 令牌', 'missing or wrong CSRF token'),
          hint: t('在请求头 x-csrf-token 中带上登录时返回的 csrfToken', 'send the csrfToken returned at login in the x-csrf-token header'),
        });
      }
    }
    await next();
  };
}
