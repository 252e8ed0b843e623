import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { errors } from './common.schema.ts';

export const HealthReportSchema = z.object({
  status: z.enum(['ok', 'degraded', 'down']).openapi({ description: 'down: control database or queue unreachable; degraded: some domain has no healthy worker' }),
  mode: z.enum(['embedded', 'postgres']),
  checks: z.record(z.string(), z.object({
    ok: z.boolean(),
    latencyMs: z.number().optional(),
    error: z.string().optional(),
  })),
}).openapi('HealthReport');

export const healthRoute = createRoute({
  method: 'get',
  path: '/api/health',
  tags: ['system'],
  summary: 'Health of the lab (control database, queue, domain workers); no sign-in needed',
  responses: {
    200: { description: 'ok or degraded', content: { 'application/json': { schema: HealthReportSchema } } },
    503: { description: 'down', content: { 'application/json': { schema: HealthReportSchema } } },
    500: errors[500],
  },
});

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(healthRoute, async (c) => {
    const report = await deps.health();
    return report.status === 'down' ? c.json(report, 503) : c.json(report, 200);
  });
}
