import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { deletePipeline, listJobs, listPipelines, readPipeline, renamePipeline } from '../services/job-list.service.ts';
import { ErrorBodySchema, SESSION_AND_CSRF_SECURITY, SESSION_SECURITY, errors } from './common.schema.ts';

/** The workspace's lists: the caller's pipelines (and one with its document), and the jobs they may read. */

const IdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ (at most 64)').openapi({ param: { name: 'id', in: 'path' } }) });

const PipelineListItemSchema = z.object({
  id: z.string(), name: z.string(), specHash: z.string(), createdAt: z.string(), updatedAt: z.string(),
  jobs: z.number().int().openapi({ description: 'jobs run from this pipeline' }), lastRunAt: z.string().nullable(),
}).openapi('PipelineListItem');

const SavedPipelineSchema = z.object({
  id: z.string(), name: z.string(), specHash: z.string(), createdAt: z.string(), updatedAt: z.string(),
  spec: z.unknown().openapi({ description: 'the saved PipelineDocument', allOf: [{ $ref: '#/components/schemas/PipelineDocument' }] }),
}).openapi('SavedPipeline');

const JobListItemSchema = z.object({
  id: z.string(), pipelineId: z.string(), pipelineName: z.string().nullable(),
  owner: z.string().openapi({ description: "the requester's display name" }), own: z.boolean(), requesterRole: z.string().nullable(),
  state: z.enum(['awaiting_approval', 'rejected', 'queued', 'running', 'succeeded', 'failed', 'cancelled']),
  reviewState: z.enum(['pending', 'released', 'returned', 'rejected']).nullable(),
  createdAt: z.string(), finishedAt: z.string().nullable(), maxLevel: z.number().nullable(), domains: z.array(z.string()),
  approvalsRequired: z.number(), projectId: z.string().nullable(), epsilon: z.string().nullable(), policyVersion: z.number().nullable(),
}).openapi('JobListItem');

export const pipelineListRoute = createRoute({
  method: 'get', path: '/api/pipelines', tags: ['pipelines'], summary: 'Your saved pipelines, newest change first (policy pipeline.list)',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  responses: { 200: { description: 'your pipelines', content: { 'application/json': { schema: z.object({ pipelines: z.array(PipelineListItemSchema) }) } } }, 401: errors[401], 403: { description: 'LAB-E137: the policy does not let your role keep pipelines', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const pipelineReadRoute = createRoute({
  method: 'get', path: '/api/pipelines/{id}', tags: ['pipelines'], summary: 'One of your pipelines with its document (policy pipeline.read; others are 404)',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const, request: { params: IdParam },
  responses: { 200: { description: 'the pipeline', content: { 'application/json': { schema: SavedPipelineSchema } } }, 401: errors[401], 404: { description: 'LAB-E004', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
const RenameBody = z.object({ name: z.string().trim().min(1).max(200).openapi({ description: 'the new name (1–200 characters)' }) }).strict().openapi('PipelineRename');
const notFound = { description: 'LAB-E004: not yours, deleted, or no such pipeline', content: { 'application/json': { schema: ErrorBodySchema } } };
export const pipelineRenameRoute = createRoute({
  method: 'patch', path: '/api/pipelines/{id}', tags: ['pipelines'], summary: 'Rename one of your pipelines (policy pipeline.rename: the owner; audited)',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: RenameBody } } } },
  responses: { 200: { description: 'renamed', content: { 'application/json': { schema: PipelineListItemSchema } } }, 400: errors[400], 401: errors[401], 403: errors[403], 404: notFound, 422: errors[422] },
});
export const pipelineDeleteRoute = createRoute({
  method: 'delete', path: '/api/pipelines/{id}', tags: ['pipelines'], summary: 'Delete one of your pipelines (policy pipeline.delete: the owner; audited). One with jobs is kept, hidden, for the audit trail; its jobs stay readable',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const, request: { params: IdParam },
  responses: { 200: { description: 'deleted (`kept`: it had jobs and is kept hidden)', content: { 'application/json': { schema: z.object({ id: z.string(), kept: z.boolean() }) } } }, 401: errors[401], 403: errors[403], 404: notFound },
});
export const jobListRoute = createRoute({
  method: 'get', path: '/api/jobs', tags: ['jobs'], summary: 'Jobs you may read (policy job.read per job): your own; officers everyone’s. Newest first, at most 200',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  responses: { 200: { description: 'jobs (no results, no documents)', content: { 'application/json': { schema: z.object({ jobs: z.array(JobListItemSchema) }) } } }, 401: errors[401] },
});

export function registerJobListRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const user = (c: { var: AppEnv['Variables'] }) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    return u;
  };
  app.openapi(pipelineListRoute, async (c) => c.json({ pipelines: await listPipelines(deps.control, user(c)) }, 200));
  app.openapi(pipelineReadRoute, async (c) => c.json(await readPipeline(deps.control, user(c), c.req.valid('param').id), 200));
  app.openapi(pipelineRenameRoute, async (c) => c.json(await renamePipeline(deps.control, user(c), c.req.valid('param').id, c.req.valid('json').name), 200));
  app.openapi(pipelineDeleteRoute, async (c) => c.json(await deletePipeline(deps.control, user(c), c.req.valid('param').id), 200));
  app.openapi(jobListRoute, async (c) => c.json({ jobs: await listJobs(deps.control, user(c)) }, 200));
}
