import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from '../../app-env.ts';

export interface RequestIdOptions {
  /** The app's logger; each request gets a child carrying its id. */
  logger: Logger;
  /** Header read and echoed. Default `x-request-id`. */
  headerName?: string;
}

/** A request id a client may choose: short, printable, no separators that could forge log fields. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Accepts a sane incoming request id or generates one, echoes it in the response and puts it,
 * with a child logger bound to it, on `c.var.requestId` / `c.var.logger`.
 */
export function requestId(options: RequestIdOptions): MiddlewareHandler<AppEnv> {
  const header = options.headerName ?? 'x-request-id';
  return async function requestId(c, next) {
    const incoming = c.req.header(header);
    const id = incoming !== undefined && SANE_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    c.set('logger', options.logger.child({ reqId: id }));
    c.header(header, id);
    await next();
    c.res.headers.set(header, id);
  };
}
