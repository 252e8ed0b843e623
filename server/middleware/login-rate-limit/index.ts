import { getConnInfo } from '@hono/node-server/conninfo';
import type { MiddlewareHandler } from 'hono';
import { LabError, t } from '../../../sandbox/errors/index.ts';
import type { AppEnv } from '../../app-env.ts';

export interface LoginRateLimitOptions {
  /** Attempts allowed per client address in `windowMs` (default 20). */
  readonly perClient?: number;
  /** Attempts allowed from all clients together in `windowMs` (default 300): password spraying across accounts. */
  readonly global?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

/**
 * Limits sign-in attempts per client address and overall (fixed windows, in memory, per process):
 * the per-account lockout stops guessing one password; this stops trying one password on many
 * accounts. Over the limit: 429 LAB-E006 with Retry-After, before any password is checked.
 */
export function loginRateLimit(options: LoginRateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const perClient = options.perClient ?? 20;
  const global = options.global ?? 300;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  let windowStart = now();
  let total = 0;
  let byClient = new Map<string, number>();

  return async function loginRateLimit(c, next) {
    if (c.req.method !== 'POST') return next();
    const at = now();
    if (at - windowStart >= windowMs) { windowStart = at; total = 0; byClient = new Map(); }
    let client = 'local';
    try { client = getConnInfo(c).remote.address ?? 'local'; } catch { /* app.request() in tests: no socket */ }
    const n = (byClient.get(client) ?? 0) + 1;
    byClient.set(client, n);
    total += 1;
    if (n > perClient || total > global) {
      c.header('Retry-After', String(Math.ceil((windowStart + windowMs - at) / 1000)));
      throw new LabError('LAB-E006', { detail: t('登录尝试过于频繁，请稍后再试', 'too many sign-in attempts; try again later') });
    }
    await next();
  };
}
