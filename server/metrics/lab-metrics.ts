import type { MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import type { DeliveryResult, QueueDriver } from '../../sandbox/runtime/queue/queue-driver.ts';
import type { Database } from '../../sandbox/store/database.ts';
import type { AppEnv } from '../app-env.ts';
import type { ControlSchema } from '../db/control.schema.ts';
import { metricsRepository } from './metrics.repository.ts';

/**
 * The lab's Prometheus metrics (prom-client), one registry per app so that two apps in one process
 * (tests) never share counters. Scraped at `GET /api/metrics` (docs/operations.md).
 *
 * - `lab_http_requests_total{method,route,status}` and `lab_http_request_duration_seconds{method,route}`:
 *   `route` is the route template (`/api/jobs/:id`), never the raw path (ids would explode the series);
 *   requests that match no route count as `unmatched`.
 * - `lab_jobs{state}`: jobs per state, read from the control database at scrape time (one GROUP BY).
 * - `lab_stage_duration_seconds{domain,outcome}`: how long a stage ran inside its domain, as the
 *   worker measured it, observed when its answer reaches the coordinator.
 * - `lab_queue_depth{domain}`: deliveries waiting or running per domain (QueueDriver.depth).
 * - `lab_guard_cells_total{domain}` / `lab_guard_suppressed_cells_total{domain}`: cells of released
 *   tables and how many of them the disclosure guard suppressed.
 * - `lab_dp_epsilon_spent{project}`: ε spent per research project (sum over its members' budgets).
 * - `lab_worker_heartbeats{domain}`: live worker heartbeats per domain.
 * - process and Node.js defaults (`process_resident_memory_bytes`, `nodejs_heap_size_used_bytes`, …).
 */
export interface LabMetrics {
  readonly registry: Registry;
  /** Counts and times every request (mount before anything that may answer early). */
  http(): MiddlewareHandler<AppEnv>;
  /** Observes every stage answer the queue delivers to the coordinator (guard counts, duration). */
  observeResults(queue: QueueDriver): Promise<void>;
  /** Records one stage answer (what `observeResults` does per delivery; exposed for the queue-less path). */
  recordResult(r: DeliveryResult): void;
  /** The text exposition format. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface LabMetricsOptions {
  readonly control: Database<ControlSchema>;
  readonly queue?: QueueDriver | undefined;
  /** Process and Node.js default metrics (off in tests that build many apps in one process). Default true. */
  readonly processMetrics?: boolean;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STAGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Keys of stage answers already counted: a delivery told again (recovery) is counted once. */
const SEEN_LIMIT = 10_000;

export function createLabMetrics(opts: LabMetricsOptions): LabMetrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const requests = new Counter({ name: 'lab_http_requests_total', help: 'HTTP requests by route template, method and status', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const latency = new Histogram({ name: 'lab_http_request_duration_seconds', help: 'HTTP request duration by route template and method (until the response head; SSE streams count to their first byte)', labelNames: ['method', 'route'] as const, buckets: SECONDS_BUCKETS, registers: [registry] });
  const stageSeconds = new Histogram({ name: 'lab_stage_duration_seconds', help: 'Time a stage ran inside its domain (worker-measured), by domain and outcome', labelNames: ['domain', 'outcome'] as const, buckets: STAGE_BUCKETS, registers: [registry] });
  const stageAnswers = new Counter({ name: 'lab_stage_answers_total', help: 'Stage answers heard from the domains, by domain and outcome (succeeded, refused, failed)', labelNames: ['domain', 'outcome'] as const, registers: [registry] });
  const guardCells = new Counter({ name: 'lab_guard_cells_total', help: 'Cells of tables released by the disclosure guard, by domain', labelNames: ['domain'] as const, registers: [registry] });
  const guardSuppressed = new Counter({ name: 'lab_guard_suppressed_cells_total', help: 'Cells the disclosure guard suppressed in released tables, by domain', labelNames: ['domain'] as const, registers: [registry] });
  for (const d of DOMAIN_IDS) { guardCells.inc({ domain: d }, 0); guardSuppressed.inc({ domain: d }, 0); }

  const control = opts.control;
  const queue = opts.queue;
  new Gauge({
    name: 'lab_jobs', help: 'Jobs per state (control database, at scrape time)', labelNames: ['state'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const r of await metricsRepository.jobsByState(control.kysely)) this.set({ state: r.state }, r.n);
    },
  });
  new Gauge({
    name: 'lab_dp_epsilon_spent', help: 'Differential-privacy ε spent per research project (sum over members)', labelNames: ['project'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const r of await metricsRepository.epsilonSpent(control.kysely)) this.set({ project: r.project_id }, r.spent);
    },
  });
  if (queue) {
    new Gauge({
      name: 'lab_queue_depth', help: 'Stage deliveries waiting or running per domain', labelNames: ['domain'] as const, registers: [registry],
      async collect() {
        const depths = await Promise.all(DOMAIN_IDS.map(async (d) => [d, await queue.depth(d).catch(() => Number.NaN)] as const));
        for (const [d, n] of depths) this.set({ domain: d }, n);
      },
    });
    new Gauge({
      name: 'lab_worker_heartbeats', help: 'Live worker heartbeats per domain', labelNames: ['domain'] as const, registers: [registry],
      async collect() {
        const beats = await Promise.all(DOMAIN_IDS.map(async (d) => [d, (await queue.heartbeats(d).catch(() => [])).length] as const));
        for (const [d, n] of beats) this.set({ domain: d }, n);
      },
    });
  }

  const seen = new Set<string>();
  const recordResult = (r: DeliveryResult) => {
    if (seen.has(r.key)) return;
    seen.add(r.key);
    if (seen.size > SEEN_LIMIT) { const first = seen.values().next(); if (!first.done) seen.delete(first.value); }
    const value = r.ok ? r.value : undefined;
    const outcome = !r.ok ? 'failed' : isAnswer(value) && value.ok ? 'succeeded' : 'refused';
    stageAnswers.inc({ domain: r.domain, outcome });
    if (isAnswer(value) && typeof value.ms === 'number' && Number.isFinite(value.ms) && value.ms >= 0) {
      stageSeconds.observe({ domain: r.domain, outcome }, value.ms / 1000);
    }
    const guard = isAnswer(value) && value.ok ? value.table?.guard : undefined;
    if (guard && typeof guard.cells === 'number' && typeof guard.suppressed === 'number') {
      guardCells.inc({ domain: r.domain }, guard.cells);
      guardSuppressed.inc({ domain: r.domain }, guard.suppressed);
    }
  };

  return {
    registry,
    http() {
      return async function metrics(c, next) {
        const start = performance.now();
        try {
          await next();
        } finally {
          // The matched route's template; Hono reports the last matched handler's path, which is the
          // middleware wildcard when no route answered.
          const template = c.req.routePath;
          const route = template && template !== '*' && !template.endsWith('/*') ? template : 'unmatched';
          const method = c.req.method;
          requests.inc({ method, route, status: String(c.res.status) });
          latency.observe({ method, route }, (performance.now() - start) / 1000);
        }
      };
    },
    async observeResults(q) {
      await q.onResult(DOMAIN_IDS, recordResult);
    },
    recordResult,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** A worker's answer as it travels through the queue (StageOutcome plus the worker's own timing). */
interface Answer {
  readonly ok: boolean;
  readonly ms?: unknown;
  readonly table?: { readonly guard?: { readonly cells?: unknown; readonly suppressed?: unknown } };
}
function isAnswer(v: unknown): v is Answer {
  return typeof v === 'object' && v !== null && typeof (v as { ok?: unknown }).ok === 'boolean';
}
