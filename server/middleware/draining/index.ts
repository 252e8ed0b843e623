import type { MiddlewareHandler } from 'hono';
import { LabError } from '../../../sandbox/errors/index.ts';
import type { AppEnv } from '../../app-env.ts';

export interface DrainingOptions {
  /** Aborted when the server begins shutting down. */
  readonly signal: AbortSignal;
  /** Paths still answered while draining (liveness and readiness: a balancer must see the 503 from readiness). */
  readonly allow?: readonly string[];
}

/**
 * While the server drains (SIGTERM), a request that still arrives on a kept-alive connection is
 * answered 503 LAB-E171 with `Connection: close` and `Retry-After`, so the client goes to another
 * instance or comes back; requests already past this point finish normally.
 */
export function draining(options: DrainingOptions): MiddlewareHandler<AppEnv> {
  const allow = new Set(options.allow ?? []);
  return async function draining(c, next) {
    if (options.signal.aborted && !allow.has(c.req.path)) {
      c.header('connection', 'close');
      c.header('retry-after', '5');
      throw new LabError('LAB-E171');
    }
    await next();
  };
}
