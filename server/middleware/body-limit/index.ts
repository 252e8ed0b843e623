import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { LabError, t } from '../../../sandbox/errors/index.ts';
import type { AppEnv } from '../../app-env.ts';

export interface BodyLimitOptions {
  /** Bytes. Default 256 KB. */
  maxBytes?: number;
}

/** Refuses request bodies above the limit (by Content-Length or while streaming) with 413 LAB-E005. */
export function bodyLimit(options: BodyLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const kb = Math.round(maxBytes / 1024);
  const inner = honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new LabError('LAB-E005', { detail: t(`上限 ${kb} KB`, `the limit is ${kb} KB`) });
    },
  });
  return async function bodyLimit(c, next) {
    await inner(c, next);
  };
}
