import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.ts';

export interface RequestLogOptions {
  /** Paths logged at debug instead of info (health probes every few seconds). */
  quietPaths?: readonly string[];
}

/**
 * One structured line per request: method, path (no query string), status, duration, request
 * id (bound on the child logger) and user id when signed in. Never bodies, headers, cookies or
 * passwords.
 */
export function requestLog(options: RequestLogOptions = {}): MiddlewareHandler<AppEnv> {
  const quiet = new Set(options.quietPaths ?? []);
  return async function requestLog(c, next) {
    const start = performance.now();
    try {
      await next();
    } finally {
      const status = c.res.status;
      const line = {
        method: c.req.method,
        path: c.req.path,
        status,
        ms: Math.round((performance.now() - start) * 10) / 10,
        ...(c.var.user ? { userId: c.var.user.id } : {}),
      };
      const log = c.var.logger;
      if (status >= 500) log.warn(line, 'request');
      else if (quiet.has(c.req.path)) log.debug(line, 'request');
      else log.info(line, 'request');
    }
  };
}
