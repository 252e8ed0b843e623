import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { validatePipeline } from '../../sandbox/pipeline/validate.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { languageOf } from '../errors/error-handler.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { disclosurePreview } from '../services/disclosure-preview.service.ts';
import { authorize } from '../services/policy.service.ts';
import { ErrorBodySchema, SESSION_AND_CSRF_SECURITY, errors } from './common.schema.ts';

const PipelineBody = z.unknown().openapi({ description: 'a PipelineDocument (docs/pipeline-spec.md)', allOf: [{ $ref: '#/components/schemas/PipelineDocument' }] });

const PreviewSchema = z.object({
  rule: z.enum(['staff', 'researcher-dp']), policyVersion: z.number().int(),
  threshold: z.number().int().openapi({ description: 'cells of at most this many units are suppressed (then secondary suppression so none can be worked out from totals)' }),
  rounding: z.number().int().openapi({ description: 'released counts are rounded to multiples of this' }),
  cellKeyNoise: z.number().int().nullable(), maxLevels: z.number().int(),
  dp: z.object({ epsilon: z.string(), mechanism: z.string() }).nullable().openapi({ description: 'researchers: differential privacy (ε charged per run)' }),
  review: z.boolean().openapi({ description: "an officer reviews the output before it is released (researchers)" }),
  tables: z.array(z.object({
    nodeId: z.string(), tableNodeId: z.string(), domain: z.string(),
    keys: z.array(z.object({ name: z.string(), geoLevel: z.string().nullable(), margin: z.boolean().openapi({ description: 'the table holds totals over this key' }) })),
    groupingSets: z.array(z.array(z.string())),
    measures: z.array(z.object({ name: z.string(), kind: z.string(), dominance: z.boolean().openapi({ description: 'sums and means: also a minimum count and dominance checks (their parameters stay confidential)' }) })),
  })),
}).openapi('DisclosurePreview');

export const disclosurePreviewRoute = createRoute({
  method: 'post', path: '/api/pipelines/disclosure-preview', tags: ['pipelines'],
  summary: 'What the disclosure guard will do with each table of a pipeline, for you, under the policy in force — from the document and the policy only, no data read',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { body: { required: true, content: { 'application/json': { schema: PipelineBody } } } },
  responses: {
    200: { description: 'the guard parameters for your role and each table\'s keys and measures', content: { 'application/json': { schema: PreviewSchema } } },
    400: errors[400], 401: errors[401], 403: errors[403], 413: errors[413],
    422: { description: 'the pipeline is invalid: the first problem and `errors`, as POST /api/pipelines/validate', content: { 'application/json': { schema: ErrorBodySchema.extend({ errors: z.array(ErrorBodySchema) }) } } },
  },
});

export function registerDisclosurePreviewRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(disclosurePreviewRoute, async (c) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    // Those who build pipelines may preview them (the policy's pipeline.create, as for validation).
    await authorize(deps.control, u, 'pipeline.create', { type: 'Service', id: 'pipelines' });
    let doc: unknown;
    try { doc = JSON.parse(await c.req.text()) as unknown; } catch { throw new LabError('LAB-E002', { detail: t('请求体须为 JSON 格式的流程文档', 'the body must be a pipeline document in JSON') }); }
    const v = validatePipeline(doc);
    if (!v.ok) {
      const lang = languageOf(c.req.header('accept-language'));
      const first = v.errors[0] ?? new LabError('LAB-E003');
      return c.json({ ...first.toBody(lang), errors: v.errors.map((e) => e.toBody(lang)) }, 422);
    }
    return c.json(await disclosurePreview(deps.control, u, v.pipeline), 200);
  });
}
