import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { langOf } from '../errors/error-handler.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { auditTrailOf, readAuditPage, verifyAuditFor } from '../services/audit.service.ts';
import { decide } from '../services/policy.service.ts';
import { SESSION_SECURITY, errors } from './common.schema.ts';

const BREAKS = ['gap', 'hash-mismatch', 'reordered', 'broken-link', 'head-mismatch', 'checkpoint-gap', 'checkpoint-signature', 'checkpoint-key-unknown', 'checkpoint-head-mismatch'] as const;

export const AuditVerifySchema = z.object({
  ok: z.boolean(),
  entries: z.number().int().openapi({ description: 'entries checked (all when ok)' }),
  checkpoints: z.number().int().openapi({ description: 'signed checkpoints whose signature checked out' }),
  head: z.object({ seq: z.number().int(), hash: z.string() }),
  firstBad: z.object({
    seq: z.number().int().openapi({ description: 'the first entry that is missing, changed or out of place (for a checkpoint: the seq it signed)' }),
    reason: z.enum(BREAKS),
    checkpointId: z.number().int().optional(),
    message: z.string(),
  }).nullable(),
}).openapi('AuditVerification');

export const AuditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string().openapi({ description: 'ISO 8601, UTC, milliseconds (the time that was hashed)' }),
  actor: z.object({ kind: z.enum(['user', 'system', 'anonymous']), userId: z.number().int().nullable(), username: z.string().nullable(), role: z.string().nullable() }),
  action: z.string().openapi({ example: 'job.result.read' }),
  resource: z.object({ type: z.string(), id: z.string().nullable() }),
  decision: z.enum(['allow', 'needs-approval', 'deny']).nullable(),
  policyVersion: z.string().nullable(),
  pipelineHash: z.string().nullable(),
  detail: z.unknown(),
  hash: z.string(),
}).openapi('AuditEntry');

export const AuditPageSchema = z.object({
  entries: z.array(AuditEntrySchema),
  headSeq: z.number().int().openapi({ description: 'seq of the newest entry (before this read was recorded)' }),
  next: z.number().int().nullable().openapi({ description: '`from` of the next page; null at the end' }),
}).openapi('AuditPage');

const AuditQuery = z.object({
  from: z.coerce.number().int().min(1).optional().openapi({ param: { name: 'from', in: 'query' }, description: 'first seq (default 1)' }),
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ param: { name: 'limit', in: 'query' }, description: '1–500, default 100' }),
});

export const auditVerifyRoute = createRoute({
  method: 'get', path: '/api/audit/verify', tags: ['audit'],
  summary: 'Verify the audit trail: recompute every hash, check seq continuity and the signed checkpoints; names the first bad entry (officers, admins)',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  responses: { 200: { description: 'the verification (ok false: firstBad says where and why)', content: { 'application/json': { schema: AuditVerifySchema } } }, 401: errors[401], 403: errors[403] },
});

export const auditListRoute = createRoute({
  method: 'get', path: '/api/audit', tags: ['audit'],
  summary: 'Audit entries in seq order, a page at a time (officers, admins); the read is itself recorded',
  security: SESSION_SECURITY, middleware: [requireAuth()] as const,
  request: { query: AuditQuery },
  responses: { 200: { description: 'a page of entries', content: { 'application/json': { schema: AuditPageSchema } } }, 401: errors[401], 403: errors[403], 422: errors[422] },
});

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const user = (c: { var: AppEnv['Variables'] }) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011'); // requireAuth guarantees one
    return u;
  };

  const decision = async (c: { var: AppEnv['Variables'] }, action: 'audit.read' | 'audit.verify') => {
    const d = await decide(deps.control, user(c), action, { type: 'Service', id: 'audit' });
    return { allowed: d.decision === 'allow', policyVersion: d.policyVersion };
  };

  app.openapi(auditVerifyRoute, async (c) => {
    const r = await verifyAuditFor(auditTrailOf(deps.control), user(c), await decision(c, 'audit.verify'));
    const lang = langOf(c);
    return c.json({
      ok: r.ok, entries: r.entries, checkpoints: r.checkpoints, head: r.head,
      firstBad: r.firstBad
        ? { seq: r.firstBad.seq, reason: r.firstBad.reason, ...(r.firstBad.checkpointId !== undefined ? { checkpointId: r.firstBad.checkpointId } : {}), message: lang === 'en' ? r.firstBad.message.en : r.firstBad.message.zh }
        : null,
    }, 200);
  });

  app.openapi(auditListRoute, async (c) => {
    const q = c.req.valid('query');
    const page = await readAuditPage(auditTrailOf(deps.control), user(c), await decision(c, 'audit.read'), { ...(q.from !== undefined ? { from: q.from } : {}), limit: q.limit });
    const last = page.entries.at(-1);
    return c.json({ entries: page.entries, headSeq: page.headSeq, next: last && last.seq < page.headSeq ? last.seq + 1 : null }, 200);
  });
}
