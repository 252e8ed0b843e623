import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { LabError, t } from '../../../sandbox/errors/index.ts';
import type { AppEnv } from '../../app-env.ts';

/** A route that takes larger bodies (e.g. a photo upload), with the error it answers over its limit. */
export interface BodyLimitRoute {
  /** Matched against the request path. */
  readonly path: RegExp;
  readonly maxBytes: number;
  readonly tooLarge: () => LabError;
}

export interface BodyLimitOptions {
  /** Bytes. Default 256 KB. */
  maxBytes?: number;
  /** POST routes with a limit of their own (the first whose path matches). */
  routes?: readonly BodyLimitRoute[];
}

/**
 * Refuses request bodies above the limit (by Content-Length or while streaming, so an oversized
 * body is never read whole) with 413 LAB-E005, or the route's own error.
 */
export function bodyLimit(options: BodyLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const kb = Math.round(maxBytes / 1024);
  const inner = honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new LabError('LAB-E005', { detail: t(`上限 ${kb} KB`, `the limit is ${kb} KB`) });
    },
  });
  const routes = (options.routes ?? []).map((r) => ({ path: r.path, check: honoBodyLimit({ maxSize: r.maxBytes, onError: () => { throw r.tooLarge(); } }) }));
  return async function bodyLimit(c, next) {
    const route = c.req.method === 'POST' ? routes.find((r) => r.path.test(c.req.path)) : undefined;
    await (route ? route.check : inner)(c, next);
  };
}
