import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { budgetsFor } from '../services/budget.service.ts';
import { SESSION_SECURITY, errors } from './common.schema.ts';

const BudgetSchema = z.object({
  projectId: z.string(), total: z.string().openapi({ description: 'ε granted (exact decimal)' }), spent: z.string(), remaining: z.string(),
  charges: z.array(z.object({ jobId: z.string(), epsilon: z.string(), at: z.string() })),
}).openapi('PrivacyBudget');

export const budgetsRoute = createRoute({
  method: 'get', path: '/api/budgets', tags: ['budgets'], summary: "Your privacy budgets (researchers): ε granted, spent and remaining per project, and each job's charge",
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  responses: { 200: { description: 'budgets', content: { 'application/json': { schema: z.object({ budgets: z.array(BudgetSchema) }) } } }, 401: errors[401] },
});

export function registerBudgetRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(budgetsRoute, async (c) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    return c.json({ budgets: await budgetsFor(deps.control, u) }, 200);
  });
}
