import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { checkBundle } from '../../policies/bundle.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { languageOf } from '../errors/error-handler.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { authorize, listPolicyVersions, readPolicy, savePolicy } from '../services/policy.service.ts';
import { ErrorBodySchema, SESSION_AND_CSRF_SECURITY, SESSION_SECURITY, errors } from './common.schema.ts';

const Problem = z.object({ message: z.string(), line: z.number().nullable(), column: z.number().nullable(), policyId: z.string().nullable(), help: z.string().nullable() }).openapi('PolicyProblem');
const Problems = ErrorBodySchema.extend({ problems: z.array(Problem) }).openapi('PolicyProblems');
const PolicySchema = z.object({
  version: z.number(), hash: z.string(), cedar: z.string(), params: z.unknown(), comment: z.string(), createdBy: z.number().nullable(), createdAt: z.string(),
  schema: z.string().openapi({ description: 'the Cedar schema policies are validated against' }),
}).openapi('PolicyVersion');
const EditBody = z.object({
  cedar: z.string().max(200_000), params: z.unknown(), baseVersion: z.number().int().min(1), comment: z.string().max(2000).default(''),
}).strict().openapi('PolicyEdit');
const invalid = { description: 'LAB-E130: the policy is invalid; `problems` lists each with line and column', content: { 'application/json': { schema: Problems } } };
const VersionParam = z.object({ version: z.coerce.number().int().min(1).max(2_147_483_647).openapi({ param: { name: 'version', in: 'path' } }) });

export const policyRoute = createRoute({
  method: 'get', path: '/api/policies/current', tags: ['policies'], summary: 'The policy in force: Cedar text, disclosure parameters, version, and the schema',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  responses: { 200: { description: 'the policy', content: { 'application/json': { schema: PolicySchema } } }, 401: errors[401], 403: errors[403] },
});
export const policyVersionsRoute = createRoute({
  method: 'get', path: '/api/policies', tags: ['policies'], summary: 'Every policy version, newest first',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  responses: { 200: { description: 'versions', content: { 'application/json': { schema: z.object({ versions: z.array(z.object({ version: z.number(), hash: z.string(), createdBy: z.number().nullable(), comment: z.string(), createdAt: z.string() })) }) } } }, 401: errors[401], 403: errors[403] },
});
export const policyAtRoute = createRoute({
  method: 'get', path: '/api/policies/{version}', tags: ['policies'], summary: 'One stored policy version',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const, request: { params: VersionParam },
  responses: { 200: { description: 'the policy', content: { 'application/json': { schema: PolicySchema } } }, 401: errors[401], 403: errors[403], 404: { description: 'LAB-E004', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const policyCheckRoute = createRoute({
  method: 'post', path: '/api/policies/check', tags: ['policies'], summary: 'Validate a policy text and parameters against the schema without saving (for the editor)',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { body: { required: true, content: { 'application/json': { schema: EditBody.omit({ baseVersion: true, comment: true }) } } } },
  responses: { 200: { description: 'valid; the formatted text', content: { 'application/json': { schema: z.object({ valid: z.literal(true), cedar: z.string(), policyIds: z.array(z.string()) }) } } }, 401: errors[401], 403: errors[403], 422: invalid },
});
export const policySaveRoute = createRoute({
  method: 'post', path: '/api/policies', tags: ['policies'], summary: 'Store a new policy version (validated and formatted first); it is in force for the next decision',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { body: { required: true, content: { 'application/json': { schema: EditBody } } } },
  responses: { 201: { description: 'stored', content: { 'application/json': { schema: z.object({ version: z.number(), hash: z.string(), cedar: z.string() }) } } }, 401: errors[401], 403: errors[403], 409: { description: 'LAB-E131: another edit landed first', content: { 'application/json': { schema: ErrorBodySchema } } }, 422: invalid },
});

export function registerPolicyRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const user = (c: { var: AppEnv['Variables'] }) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    return u;
  };
  const may = (c: { var: AppEnv['Variables'] }, action: 'policy.read' | 'policy.edit') => authorize(deps.control, user(c), action, { type: 'Service', id: 'policies' });
  const problemsBody = (c: { req: { header(n: string): string | undefined } }, problems: readonly z.infer<typeof Problem>[]) => {
    const first = problems[0];
    const where = first?.line ? ` (${first.line}:${first.column ?? 1})` : '';
    const e = new LabError('LAB-E130', { detail: t(`${first?.message ?? ''}${where}`, `${first?.message ?? ''}${where}`), ...(first?.line ? { field: `cedar:${first.line}:${first.column ?? 1}` } : {}) });
    return { ...e.toBody(languageOf(c.req.header('accept-language'))), problems: [...problems] };
  };

  app.openapi(policyRoute, async (c) => { await may(c, 'policy.read'); return c.json(await readPolicy(deps.control), 200); });
  app.openapi(policyVersionsRoute, async (c) => { await may(c, 'policy.read'); return c.json({ versions: await listPolicyVersions(deps.control) }, 200); });
  app.openapi(policyAtRoute, async (c) => { await may(c, 'policy.read'); return c.json(await readPolicy(deps.control, c.req.valid('param').version), 200); });
  app.openapi(policyCheckRoute, async (c) => {
    await may(c, 'policy.edit');
    const body = c.req.valid('json');
    const check = checkBundle(body.cedar, body.params);
    if (!check.ok) return c.json(problemsBody(c, check.problems), 422);
    return c.json({ valid: true as const, cedar: check.bundle.cedar, policyIds: [...check.policyIds] }, 200);
  });
  app.openapi(policySaveRoute, async (c) => {
    await may(c, 'policy.edit');
    const body = c.req.valid('json');
    const saved = await savePolicy(deps.control, user(c), { cedar: body.cedar, params: body.params, baseVersion: body.baseVersion, comment: body.comment });
    if (!saved.ok) return c.json(problemsBody(c, saved.problems), 422);
    return c.json({ version: saved.version, hash: saved.hash, cedar: saved.cedar }, 201);
  });
}
