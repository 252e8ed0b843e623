import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { LabError, isLabError, t } from '../../sandbox/errors/index.ts';
import { validatePipeline, type ValidPipeline } from '../../sandbox/pipeline/validate.ts';
import { planPipeline } from '../../sandbox/plan/planner.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { languageOf } from '../errors/error-handler.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { approvalRepository } from '../repositories/approval.repository.ts';
import { jobRepository } from '../repositories/job.repository.ts';
import { authorize } from '../services/policy.service.ts';
import { cancelJob, jobFor, readResult, savePipeline, startRun } from '../services/job.service.ts';
import { pipelineDocumentComponents } from './pipeline-document.schema.ts';
import { ErrorBodySchema, SESSION_AND_CSRF_SECURITY, SESSION_SECURITY, errors } from './common.schema.ts';

/** A pipeline body: described by the generated PipelineDocument component, checked by the pipeline validator (not by zod here). */
const PipelineBody = z.unknown().openapi({ description: 'a PipelineDocument (docs/pipeline-spec.md)', allOf: [{ $ref: '#/components/schemas/PipelineDocument' }] });

const ValidationErrorSchema = ErrorBodySchema.extend({ errors: z.array(ErrorBodySchema) }).openapi('PipelineErrors');
const invalid = { description: 'The pipeline is invalid (LAB-E003, E050–E054, E060–E068, E085, E086 …): the first problem, and `errors` listing one per broken node, each with `nodeId` and `field` where they apply', content: { 'application/json': { schema: ValidationErrorSchema } } };

const ColumnOutSchema = z.object({ name: z.string(), type: z.string(), level: z.string(), identifier: z.boolean() });
const ValidResultSchema = z.object({
  valid: z.literal(true),
  nodes: z.array(z.object({ id: z.string(), op: z.string(), outputs: z.record(z.string(), z.object({ kind: z.enum(['rows', 'table']), domain: z.string(), columns: z.array(ColumnOutSchema) })) })),
}).openapi('PipelineValidation');

const StageSchema = z.object({ id: z.string(), domain: z.string(), state: z.string(), error: z.unknown().nullable() });
const JobSchema = z.object({
  id: z.string(), pipelineId: z.string(), state: z.enum(['awaiting_approval', 'rejected', 'queued', 'running', 'succeeded', 'failed', 'cancelled']),
  progress: z.number().openapi({ description: 'finished stages / stages' }), error: z.unknown().nullable(),
  createdAt: z.string(), finishedAt: z.string().nullable(), stages: z.array(StageSchema),
  policyVersion: z.number().nullable().openapi({ description: 'the policy version that decided the run' }),
  approvalsRequired: z.number().openapi({ description: 'distinct officers who must approve before the job runs (0: none)' }),
  approvals: z.array(z.object({ officer: z.string(), decision: z.enum(['approve', 'reject']), reason: z.string(), at: z.string() })),
  reviewState: z.enum(['pending', 'released', 'returned', 'rejected']).nullable().openapi({ description: "researchers' jobs: output review (Airlock-like); null for staff" }),
  projectId: z.string().nullable(), epsilon: z.string().nullable().openapi({ description: 'ε charged to the project (researchers)' }),
  reviewReason: z.string().nullable().openapi({ description: "the officer's reason when an output was returned or rejected" }),
  pipeline: z.unknown().openapi({ description: 'the pipeline document the job runs (a snapshot: what officers approve)' }),
}).openapi('Job');
export const RunBody = z.object({ projectId: z.string().min(1).max(64).optional().openapi({ description: "researchers: the project whose privacy budget pays (their only project when omitted)" }) }).strict().openapi('RunRequest');
const ResultSchema = z.object({
  jobId: z.string(),
  tables: z.array(z.object({ stageId: z.string(), domain: z.string(), table: z.unknown().openapi({ description: 'ReleasedTable: columns, rows (keys, values, suppressed, rounded, allOfParent), guard summary' }) })),
}).openapi('JobResult');

const IdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ (at most 64)').openapi({ param: { name: 'id', in: 'path' } }) });

export const validateRoute = createRoute({
  method: 'post', path: '/api/pipelines/validate', tags: ['pipelines'], summary: 'Check a pipeline: shape, operators, connections, cycles, columns, expressions, classification',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { body: { required: true, content: { 'application/json': { schema: PipelineBody } } } },
  responses: { 200: { description: 'valid; the inferred outputs of every node', content: { 'application/json': { schema: ValidResultSchema } } }, 400: errors[400], 401: errors[401], 403: errors[403], 413: errors[413], 422: invalid },
});
export const createPipelineRoute = createRoute({
  method: 'post', path: '/api/pipelines', tags: ['pipelines'], summary: 'Save a pipeline (it is validated first)',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { body: { required: true, content: { 'application/json': { schema: PipelineBody } } } },
  responses: { 201: { description: 'saved', content: { 'application/json': { schema: z.object({ id: z.string() }) } } }, 400: errors[400], 401: errors[401], 403: errors[403], 413: errors[413], 422: invalid },
});
export const runRoute = createRoute({
  method: 'post', path: '/api/pipelines/{id}/runs', tags: ['jobs'], summary: 'Run a saved pipeline: plans it into per-domain stages and queues them',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const, request: { params: IdParam },
  description: 'The body is optional: `{ "projectId": "…" }` (RunRequest) for researchers; staff send none.',
  responses: { 202: { description: 'queued, or waiting for officers\' approval (state awaiting_approval) — decided by the policy in force', content: { 'application/json': { schema: z.object({ jobId: z.string(), state: z.enum(['queued', 'awaiting_approval']), approvalsRequired: z.number() }) } } }, 401: errors[401], 403: errors[403], 404: { description: 'LAB-E004', content: { 'application/json': { schema: ErrorBodySchema } } }, 422: invalid, 503: { description: 'LAB-E021: no queue', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const jobRoute = createRoute({
  method: 'get', path: '/api/jobs/{id}', tags: ['jobs'], summary: 'A job: state, progress, stages', security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam }, responses: { 200: { description: 'the job', content: { 'application/json': { schema: JobSchema } } }, 401: errors[401], 404: { description: 'LAB-E004', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const resultRoute = createRoute({
  method: 'get', path: '/api/jobs/{id}/result', tags: ['jobs'], summary: 'The released tables of a finished job (guarded inside the domains)', security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam }, responses: { 200: { description: 'released tables', content: { 'application/json': { schema: ResultSchema } } }, 401: errors[401], 404: { description: 'LAB-E004', content: { 'application/json': { schema: ErrorBodySchema } } }, 409: { description: 'LAB-E071: not finished, failed or cancelled', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const cancelRoute = createRoute({
  method: 'post', path: '/api/jobs/{id}/cancel', tags: ['jobs'], summary: 'Cancel a queued or running job', security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam }, responses: { 200: { description: 'the job state after the request', content: { 'application/json': { schema: z.object({ state: z.string() }) } } }, 401: errors[401], 403: errors[403], 404: { description: 'LAB-E004', content: { 'application/json': { schema: ErrorBodySchema } } } },
});
export const eventsRoute = createRoute({
  method: 'get', path: '/api/jobs/{id}/events', tags: ['jobs'], summary: 'Server-sent events of a job (state and stage changes); resumes after Last-Event-ID', security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  request: { params: IdParam }, responses: { 200: { description: 'text/event-stream; events `state` and `stage`, each with an id', content: { 'text/event-stream': { schema: z.string() } } }, 401: errors[401], 404: { description: 'LAB-E004', content: { 'application/json': { schema: ErrorBodySchema } } } },
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function planningErrors(p: ValidPipeline): LabError[] {
  try {
    planPipeline(p);
    return [];
  } catch (e) {
    if (isLabError(e)) return [e];
    throw e;
  }
}

export function registerPipelineRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  // Documented as components generated from the validator's own schemas; bodies are checked by the
  // pipeline validator (which names node and field), not by zod here.
  for (const [name, schema] of Object.entries(pipelineDocumentComponents())) app.openAPIRegistry.registerComponent('schemas', name, schema);
  app.openAPIRegistry.register('RunRequest', RunBody);
  const invalidResponse = (c: { req: { header(n: string): string | undefined } }, doc: unknown) => {
    const v = validatePipeline(doc);
    // A valid document must also be plannable: the planner refuses, e.g., a join across domains
    // (LAB-E067 on the node) until an encrypted protocol can plan it. Said now, not at run time.
    const errors = v.ok ? planningErrors(v.pipeline) : v.errors;
    if (v.ok && errors.length === 0) return { ok: true as const, v };
    const lang = languageOf(c.req.header('accept-language'));
    const [first] = errors;
    return { ok: false as const, body: { ...(first ?? new LabError('LAB-E003')).toBody(lang), errors: errors.map((e) => e.toBody(lang)) } };
  };
  const user = (c: { var: AppEnv['Variables'] }) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    return u;
  };

  /** The body as JSON; an empty or malformed body is 400 LAB-E002 (Hono parses only bodies declared as JSON). */
  const jsonBody = async (c: { req: { text(): Promise<string> } }): Promise<unknown> => {
    const text = await c.req.text();
    try { return JSON.parse(text) as unknown; } catch { throw new LabError('LAB-E002', { detail: t('请求体须为 JSON 格式的流程文档', 'the body must be a pipeline document in JSON') }); }
  };
  const mayCreate = async (c: { var: AppEnv['Variables'] }) => { await authorize(deps.control, user(c), 'pipeline.create', { type: 'Service', id: 'pipelines' }); };

  app.openapi(validateRoute, async (c) => {
    await mayCreate(c);
    const r = invalidResponse(c, await jsonBody(c));
    if (!r.ok) return c.json(r.body, 422);
    return c.json({
      valid: true as const,
      nodes: r.v.pipeline.nodes.map((n) => ({
        id: n.node.id, op: n.node.op,
        outputs: Object.fromEntries(Object.entries(n.outputs).map(([port, v]) => [port, {
          kind: v.kind, domain: v.domain,
          columns: v.kind === 'rows'
            ? v.columns.map((col) => ({ name: col.name, type: col.type, level: col.level, identifier: col.identifierOrigins.length > 0 }))
            : [...v.keys.map((k) => ({ name: k.name, type: k.column.type, level: k.column.level, identifier: false })), ...v.measures.map((m) => ({ name: m.name, type: 'numeric', level: v.level, identifier: false }))],
        }])),
      })),
    }, 200);
  });

  app.openapi(createPipelineRoute, async (c) => {
    await mayCreate(c);
    const r = invalidResponse(c, await jsonBody(c));
    if (!r.ok) return c.json(r.body, 422);
    return c.json(await savePipeline(deps.control, user(c), r.v.pipeline), 201);
  });

  app.openapi(runRoute, async (c) => {
    if (!deps.queue) throw new LabError('LAB-E021');
    const text = await c.req.text();
    let raw: unknown = {};
    if (text.trim()) {
      try { raw = JSON.parse(text); } catch { throw new LabError('LAB-E002', { detail: t('请求体不是合法的 JSON', 'the body is not valid JSON') }); }
    }
    const parsed = RunBody.safeParse(raw);
    if (!parsed.success) throw new LabError('LAB-E003', { field: parsed.error.issues[0]?.path.join('.') || 'body' });
    const body = parsed.data;
    const run = await startRun(deps.control, deps.queue, user(c), c.req.valid('param').id, { projectId: body.projectId });
    return c.json({ jobId: run.jobId, state: run.state === 'queued' ? 'queued' as const : 'awaiting_approval' as const, approvalsRequired: run.approvalsRequired }, 202);
  });

  app.openapi(jobRoute, async (c) => {
    const job = await jobFor(deps.control, user(c), c.req.valid('param').id);
    const stages = await jobRepository.stages(deps.control, job.id);
    const done = stages.filter((s) => s.state !== 'queued' && s.state !== 'running').length;
    return c.json({
      id: job.id, pipelineId: job.pipeline_id, state: job.state, progress: stages.length ? done / stages.length : 1, error: job.error ?? null,
      createdAt: iso(job.created_at) ?? '', finishedAt: iso(job.finished_at),
      stages: stages.map((s) => ({ id: s.stage_id, domain: s.domain, state: s.state, error: s.error ?? null })),
      policyVersion: job.policy_version, approvalsRequired: job.approvals_required,
      approvals: (await approvalRepository.forJob(deps.control.kysely, job.id)).map((a) => ({ officer: a.display_name, decision: a.decision, reason: a.reason, at: iso(a.created_at) ?? '' })),
      reviewState: job.review_state, projectId: job.project_id, epsilon: job.epsilon,
      reviewReason: job.review_state && job.review_state !== 'pending' ? ((await approvalRepository.latestReview(deps.control.kysely, job.id))?.reason || null) : null,
      pipeline: job.spec,
    }, 200);
  });

  app.openapi(resultRoute, async (c) => {
    const { job, rows } = await readResult(deps.control, user(c), c.req.valid('param').id);
    return c.json({ jobId: job.id, tables: rows.map((r) => ({ stageId: r.stage_id, domain: r.domain, table: r.result })) }, 200);
  });

  app.openapi(cancelRoute, async (c) => {
    return c.json(await cancelJob(deps.control, deps.queue, user(c), c.req.valid('param').id), 200);
  });

  app.openapi(eventsRoute, async (c) => {
    const job = await jobFor(deps.control, user(c), c.req.valid('param').id);
    const fromHeader = Number(c.req.header('last-event-id') ?? '0');
    let after = Number.isSafeInteger(fromHeader) && fromHeader > 0 ? fromHeader : 0;
    return streamSSE(c, async (stream) => {
      const deadline = Date.now() + 10 * 60_000;
      let aborted = false;
      stream.onAbort(() => { aborted = true; });
      // Ends cleanly when the server shuts down: the client reconnects with Last-Event-ID.
      while (!aborted && !deps.shutdown?.aborted && Date.now() < deadline) {
        const events = await jobRepository.eventsAfter(deps.control, job.id, after);
        for (const e of events) {
          await stream.writeSSE({ id: String(e.id), event: e.kind, data: JSON.stringify(e.data) });
          after = e.id;
        }
        const current = await jobRepository.find(deps.control, job.id);
        if (events.length === 0 && current && current.state !== 'queued' && current.state !== 'running' && current.state !== 'awaiting_approval') break;
        await stream.sleep(events.length ? 0 : 400);
      }
    }) as never; // an SSE stream is a plain Response; the typed-response union of OpenAPIHono has no member for it
  });
}
