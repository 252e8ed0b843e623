import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { approveJob, officerInbox, rejectJob, reviewJob } from '../services/approval.service.ts';
import { ErrorBodySchema, SESSION_AND_CSRF_SECURITY, SESSION_SECURITY, errors } from './common.schema.ts';

const IdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ (at most 64)').openapi({ param: { name: 'id', in: 'path' } }) });
const notFound = { description: 'LAB-E004: no such job (or not one you may decide on)', content: { 'application/json': { schema: ErrorBodySchema } } };
const conflict = { description: 'LAB-E134: the job is not at this step; LAB-E132: the approval is void (the policy changed)', content: { 'application/json': { schema: ErrorBodySchema } } };
const forbidden = { description: 'LAB-E133: your own job; LAB-E012: CSRF', content: { 'application/json': { schema: ErrorBodySchema } } };

const InboxItem = z.object({
  jobId: z.string(), pipelineId: z.string(), ownerId: z.number(), requester: z.string().openapi({ description: 'display name of the requester' }), requesterRole: z.string().nullable(), createdAt: z.string(),
  maxLevel: z.number().nullable(), domains: z.unknown(), approvalsRequired: z.number(), projectId: z.string().nullable(), epsilon: z.string().nullable(),
  decision: z.unknown(), policyVersion: z.number().nullable(),
}).openapi('InboxItem');

export const inboxRoute = createRoute({
  method: 'get', path: '/api/approvals', tags: ['approvals'], summary: "Officers: jobs waiting for approval and researchers' outputs waiting for review (never your own)",
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  responses: { 200: { description: 'the inbox', content: { 'application/json': { schema: z.object({ approvals: z.array(InboxItem), reviews: z.array(InboxItem) }) } } }, 401: errors[401], 403: { description: 'LAB-E137: not an officer', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const approveRoute = createRoute({
  method: 'post', path: '/api/jobs/{id}/approve', tags: ['approvals'], summary: "Approve a job waiting for approval (bound to the exact DAG, parameters, inputs and policy version; never your own job; two officers for L4 inputs)",
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam, body: { required: false, content: { 'application/json': { schema: z.object({ note: z.string().max(2000).optional() }).strict() } } } },
  responses: { 200: { description: 'recorded; the job runs once enough officers approved', content: { 'application/json': { schema: z.object({ state: z.string(), approvals: z.number(), approvalsRequired: z.number() }) } } }, 401: errors[401], 403: forbidden, 404: notFound, 409: conflict },
});
export const rejectRoute = createRoute({
  method: 'post', path: '/api/jobs/{id}/reject', tags: ['approvals'], summary: 'Reject a job waiting for approval, with a reason the requester sees',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: z.object({ reason: z.string().max(2000) }).strict() } } } },
  responses: { 200: { description: 'rejected', content: { 'application/json': { schema: z.object({ state: z.string() }) } } }, 401: errors[401], 403: forbidden, 404: notFound, 409: conflict, 422: { description: 'LAB-E135: a reason is required', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const reviewRoute = createRoute({
  method: 'post', path: '/api/jobs/{id}/review', tags: ['approvals'], summary: "Review a researcher's output: release it, return it (with a reason) or reject it (with a reason)",
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: z.object({ decision: z.enum(['released', 'returned', 'rejected']), reason: z.string().max(2000).default('') }).strict() } } } },
  responses: { 200: { description: 'the review state after the decision', content: { 'application/json': { schema: z.object({ reviewState: z.string() }) } } }, 401: errors[401], 403: forbidden, 404: notFound, 409: conflict, 422: { description: 'LAB-E135: a reason is required', content: { 'application/json': { schema: ErrorBodySchema } } } },
});

export function registerApprovalRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const user = (c: { var: AppEnv['Variables'] }) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    return u;
  };
  app.openapi(inboxRoute, async (c) => c.json(await officerInbox(deps.control, user(c)), 200));
  app.openapi(approveRoute, async (c) => {
    if (!deps.queue) throw new LabError('LAB-E021');
    const body = (c.req.valid('json') as { note?: string } | undefined) ?? {};
    return c.json(await approveJob(deps.control, deps.queue, user(c), c.req.valid('param').id, body.note ?? ''), 200);
  });
  app.openapi(rejectRoute, async (c) => c.json(await rejectJob(deps.control, user(c), c.req.valid('param').id, c.req.valid('json').reason), 200));
  app.openapi(reviewRoute, async (c) => {
    const body = c.req.valid('json');
    return c.json(await reviewJob(deps.control, user(c), c.req.valid('param').id, body.decision, body.reason), 200);
  });
}
