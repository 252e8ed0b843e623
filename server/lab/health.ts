import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import type { QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import type { HealthReport } from '../app-deps.ts';

/**
 * Health of the whole lab as the coordinator can see it: its own database and the queue directly,
 * each domain through its workers' heartbeats (the coordinator never connects to a domain database).
 * down: control database or queue unreachable. degraded: some domain has no healthy worker.
 */
export function healthProbe(mode: HealthReport['mode'], control: { ping(): Promise<void> }, queue: QueueDriver): () => Promise<HealthReport> {
  const timed = async (fn: () => Promise<void>) => {
    const start = performance.now();
    try {
      await fn();
      return { ok: true, latencyMs: Math.round(performance.now() - start) };
    } catch (e) {
      return { ok: false, latencyMs: Math.round(performance.now() - start), error: e instanceof Error ? e.message.split('\n')[0] ?? 'error' : 'error' };
    }
  };
  return async () => {
    const checks: HealthReport['checks'] = {};
    checks['control-db'] = await timed(() => control.ping());
    checks['queue'] = await timed(() => queue.ping());
    for (const d of DOMAIN_IDS) {
      const r = await timed(async () => {
        const beats = await queue.heartbeats(d);
        if (beats.length === 0) throw new Error('no worker heartbeat');
        if (!beats.some((b) => b.databaseOk)) throw new Error(`database unreachable from every worker (${beats.length})`);
      });
      checks[`domain:${d}`] = r;
    }
    const core = checks['control-db']?.ok && checks['queue']?.ok;
    const allDomains = DOMAIN_IDS.every((d) => checks[`domain:${d}`]?.ok);
    return { status: !core ? 'down' : allDomains ? 'ok' : 'degraded', mode, checks };
  };
}
