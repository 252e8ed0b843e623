import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { listFollowUps, readFollowUp } from '../services/follow-up.service.ts';
import { ErrorBodySchema, SESSION_SECURITY, errors } from './common.schema.ts';

const notFound = { description: 'LAB-E004: no such domain; LAB-E166: no such follow-up list', content: { 'application/json': { schema: ErrorBodySchema } } };
const forbidden = { description: "LAB-E137: not a steward of this domain", content: { 'application/json': { schema: ErrorBodySchema } } };

const FollowUpListSchema = z.object({
  listId: z.string().openapi({ example: '5f0c…~list_social' }),
  jobId: z.string(),
  title: z.string(),
  unitKind: z.enum(['person', 'house']),
  count: z.number().int(),
  createdAt: z.string(),
}).openapi('FollowUpList');

const DomainParam = z.object({ id: z.string().regex(/^[a-z]{1,32}$/).openapi({ param: { name: 'id', in: 'path' }, example: 'social' }) });
const ListParam = DomainParam.extend({ listId: z.string().regex(/^[A-Za-z0-9_-]{1,64}~[A-Za-z][A-Za-z0-9_-]{0,63}$/).openapi({ param: { name: 'listId', in: 'path' } }) });

export const followUpsRoute = createRoute({
  method: 'get', path: '/api/domains/{id}/follow-ups', tags: ['follow-ups'],
  summary: "The domain's follow-up lists (I6): job, title, count, created — stewards of that domain only; read from the domain through the queue",
  security: SESSION_SECURITY, middleware: [requireAuth()] as const, request: { params: DomainParam },
  responses: {
    200: { description: 'lists', content: { 'application/json': { schema: z.object({ lists: z.array(FollowUpListSchema) }) } } },
    401: errors[401], 403: forbidden, 404: notFound,
  },
});

export const followUpRowsRoute = createRoute({
  method: 'get', path: '/api/domains/{id}/follow-ups/{listId}', tags: ['follow-ups'],
  summary: "One follow-up list's rows (ID numbers or house numbers) — stewards of that domain only; never stored outside the domain",
  security: SESSION_SECURITY, middleware: [requireAuth()] as const, request: { params: ListParam },
  responses: {
    200: { description: 'the list and its rows', content: { 'application/json': { schema: z.object({ list: FollowUpListSchema, rows: z.array(z.string()) }) } } },
    401: errors[401], 403: forbidden, 404: notFound,
  },
});

export function registerFollowUpRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(followUpsRoute, async (c) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    const { id } = c.req.valid('param');
    return c.json({ lists: await listFollowUps(deps.control, deps.queue, u, id) }, 200);
  });
  app.openapi(followUpRowsRoute, async (c) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    const { id, listId } = c.req.valid('param');
    const out = await readFollowUp(deps.control, deps.queue, u, id, listId);
    return c.json({ list: out.list, rows: [...out.rows] }, 200);
  });
}
