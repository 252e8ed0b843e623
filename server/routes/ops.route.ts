import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import type { LabMetrics } from '../metrics/lab-metrics.ts';
import { authorize } from '../services/policy.service.ts';
import { errors } from './common.schema.ts';

export const ReadinessReportSchema = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() }))
    .openapi({ description: 'shutdown, control-db, migrations, queue, domain:<id> (a live worker heartbeat whose database ping succeeded)' }),
}).openapi('ReadinessReport');

export const readyRoute = createRoute({
  method: 'get',
  path: '/api/ready',
  tags: ['system'],
  summary: 'Readiness: 200 only when the control database answers, its migrations are applied, the queue answers and every domain has a live worker; no sign-in needed',
  responses: {
    200: { description: 'ready', content: { 'application/json': { schema: ReadinessReportSchema } } },
    503: { description: 'not ready (or shutting down): the failing checks say which part', content: { 'application/json': { schema: ReadinessReportSchema } } },
    500: errors[500],
  },
});

export const metricsRoute = createRoute({
  method: 'get',
  path: '/api/metrics',
  tags: ['system'],
  summary: 'Prometheus metrics (text exposition): an admin session, or `Authorization: Bearer <LAB_METRICS_TOKEN>`',
  security: [{ sessionCookie: [] }, { metricsBearer: [] }],
  responses: {
    200: { description: 'text/plain; version=0.0.4', content: { 'text/plain': { schema: z.string() } } },
    401: { description: 'LAB-E011: neither a session nor a bearer token; LAB-E170: a wrong bearer token', content: errors[401].content },
    403: { description: 'LAB-E137: the policy does not allow `ops.metrics` (admins only by default)', content: errors[403].content },
    500: errors[500],
  },
});

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `GET /api/ready` and `GET /api/metrics`. */
export function registerOpsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps, metrics: LabMetrics): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'metricsBearer', {
    type: 'http', scheme: 'bearer', description: 'LAB_METRICS_TOKEN of the server (for a Prometheus scraper); absent: admins\' sessions only',
  });
  const ready = deps.ready ?? (async () => {
    const h = await deps.health();
    const checks = Object.fromEntries(Object.entries(h.checks).map(([k, v]) => [k, { ok: v.ok, ...(v.error ? { error: v.error } : {}) }]));
    return { ready: h.status === 'ok' && !deps.shutdown?.aborted, checks };
  });

  app.openapi(readyRoute, async (c) => {
    const r = await ready();
    c.header('cache-control', 'no-store');
    return r.ready ? c.json(r, 200) : c.json(r, 503);
  });

  const token = deps.config.metricsToken;
  const expected = token ? digest(token) : undefined;
  app.openapi(metricsRoute, async (c) => {
    const auth = c.req.header('authorization');
    if (auth !== undefined && /^bearer\s/i.test(auth)) {
      // Compared as digests: constant time whatever the lengths.
      const given = digest(auth.replace(/^bearer\s+/i, '').trim());
      if (!expected || !timingSafeEqual(given, expected)) throw new LabError('LAB-E170');
    } else {
      const user = c.var.user;
      if (!user) throw new LabError('LAB-E011');
      await authorize(deps.control, user, 'ops.metrics', { type: 'Service', id: 'ops' });
    }
    const { contentType, body } = await metrics.render();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' }) as never; // plain text: not in the typed JSON union
  });
}
