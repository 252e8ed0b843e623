import type { Logger } from 'pino';
import type { QueueDriver } from '../sandbox/runtime/queue/queue-driver.ts';
import type { Database } from '../sandbox/store/database.ts';
import type { ControlSchema } from './db/control.schema.ts';
import type { LoginRateLimitOptions } from './middleware/login-rate-limit/index.ts';

/** What the lab reports at `GET /api/health`. `down` answers 503; `ok` and `degraded` answer 200. */
export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  mode: 'embedded' | 'postgres';
  checks: Record<string, { ok: boolean; latencyMs?: number; error?: string }>;
}

/**
 * Everything the HTTP app needs, handed in by the caller (the boot sequence or a test).
 * The server holds only the control database: never a domain connection or a domain key (I2).
 */
export interface AppDeps {
  control: Database<ControlSchema>;
  logger: Logger;
  /** Delivers stages to the domains and hears their answers; runs answer 503 without it. */
  queue?: QueueDriver;
  /** Supplied by the caller; must not throw (report failures as checks instead). */
  health: () => Promise<HealthReport>;
  config: {
    /** Adds `Secure` to the session cookie (set behind HTTPS). */
    secureCookies: boolean;
    /** Idle lifetime of a session; refreshed on use. Default 8 hours. */
    sessionTtlMs?: number;
    /** Sign-in attempts per client and overall per minute (defaults 20 and 300). */
    loginRateLimit?: LoginRateLimitOptions;
  };
}

export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
