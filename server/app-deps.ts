import type { Logger } from 'pino';
import type { QueueDriver } from '../sandbox/runtime/queue/queue-driver.ts';
import type { Database } from '../sandbox/store/database.ts';
import type { ControlSchema } from './db/control.schema.ts';
import type { LabMetrics } from './metrics/lab-metrics.ts';
import type { LoginRateLimitOptions } from './middleware/login-rate-limit/index.ts';

/** What the lab reports at `GET /api/health`. `down` answers 503; `ok` and `degraded` answer 200. */
export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  mode: 'embedded' | 'postgres';
  checks: Record<string, { ok: boolean; latencyMs?: number; error?: string }>;
}

/** What the lab reports at `GET /api/ready`: 200 when `ready`, else 503; every part a named check. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
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
  /** Readiness (server/lab/readiness.ts); without it, ready exactly when `health` says ok. Must not throw. */
  ready?: () => Promise<ReadinessReport>;
  /** Prometheus metrics; without it the app makes its own (HTTP and control-database gauges only). */
  metrics?: LabMetrics;
  /** Aborted when the server begins shutting down: new requests get 503 LAB-E171, SSE streams end cleanly. */
  shutdown?: AbortSignal;
  config: {
    /** Adds `Secure` to the session cookie (set behind HTTPS). */
    secureCookies: boolean;
    /** Idle lifetime of a session; refreshed on use. Default 8 hours. */
    sessionTtlMs?: number;
    /** Sign-in attempts per client and overall per minute (defaults 20 and 300). */
    loginRateLimit?: LoginRateLimitOptions;
    /** Bearer token that may read `GET /api/metrics` without a session (LAB_METRICS_TOKEN; unset: admins' sessions only). */
    metricsToken?: string;
  };
}

export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
