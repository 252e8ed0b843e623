import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import type { QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { ReadinessReport } from '../app-deps.ts';
import { CONTROL_MIGRATIONS } from '../db/control.migrations.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { metricsRepository } from '../metrics/metrics.repository.ts';

export interface ReadinessOptions {
  /** Aborted when the server starts shutting down: from then on it is not ready (a balancer stops sending). */
  readonly shutdown?: AbortSignal | undefined;
}

const message = (e: unknown) => (e instanceof Error ? e.message.split('\n')[0] ?? 'error' : String(e));

/**
 * Readiness (`GET /api/ready`): may this coordinator take traffic? Ready only when the control
 * database answers, every control migration is applied, the queue answers, and every domain has a
 * live worker heartbeat whose own database ping succeeded — and the server is not shutting down.
 * Each part is a named check, so a 503 says which part is not ready. Liveness (`/api/health`) is
 * separate: a lab that is up but degraded is alive, not ready.
 */
export function readinessProbe(control: Database<ControlSchema>, queue: QueueDriver | undefined, opts: ReadinessOptions = {}): () => Promise<ReadinessReport> {
  const expected = CONTROL_MIGRATIONS.map((m) => m.name);
  const check = async (fn: () => Promise<void>): Promise<{ ok: boolean; error?: string }> => {
    try { await fn(); return { ok: true }; } catch (e) { return { ok: false, error: message(e) }; }
  };
  return async () => {
    const checks: ReadinessReport['checks'] = {};
    checks['shutdown'] = opts.shutdown?.aborted ? { ok: false, error: 'the server is shutting down' } : { ok: true };
    checks['control-db'] = await check(() => control.ping());
    checks['migrations'] = checks['control-db'].ok
      ? await check(async () => {
        const missing = await metricsRepository.missingMigrations(control.kysely, expected);
        if (missing.length) throw new Error(`not applied: ${missing.join(', ')}`);
      })
      : { ok: false, error: 'control database unreachable' };
    if (!queue) {
      checks['queue'] = { ok: false, error: 'no queue configured' };
    } else {
      checks['queue'] = await check(() => queue.ping());
      for (const d of DOMAIN_IDS) {
        checks[`domain:${d}`] = checks['queue'].ok
          ? await check(async () => {
            const beats = await queue.heartbeats(d);
            if (beats.length === 0) throw new Error('no live worker heartbeat');
            if (!beats.some((b) => b.databaseOk)) throw new Error(`no worker reaches its database (${beats.length} alive)`);
          })
          : { ok: false, error: 'queue unreachable' };
      }
    }
    if (!queue) for (const d of DOMAIN_IDS) checks[`domain:${d}`] = { ok: false, error: 'no queue configured' };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };
}
