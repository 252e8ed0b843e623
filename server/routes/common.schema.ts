import { z } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode } from '../../sandbox/errors/index.ts';

/** Schemas shared by every route: the error body and the bilingual label. */

export const ErrorBodySchema = z.object({
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).openapi({ example: 'LAB-E003' }),
  message: z.string().openapi({ example: '请求内容校验失败：字段 username 不符合要求' }),
  hint: z.string().optional(),
  nodeId: z.string().optional(),
  field: z.string().optional(),
  span: z.object({ start: z.number().int(), end: z.number().int() }).optional(),
}).openapi('ErrorBody', { description: 'Every error: a stable LAB-E code (docs/errors.md), a message in the requested language (Accept-Language; zh-CN by default).' });

export const BilingualSchema = z.object({ zh: z.string(), en: z.string() }).openapi('Bilingual');

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBodySchema } } });

/** Error responses a route may declare, by status. */
export const errors = {
  400: errorResponse('LAB-E002: malformed request (invalid JSON, wrong Content-Type)'),
  401: errorResponse('LAB-E011: not signed in or session expired'),
  403: errorResponse('LAB-E012: not allowed (role, or missing/wrong x-csrf-token)'),
  413: errorResponse('LAB-E005: request body too large'),
  422: errorResponse('LAB-E003: request failed validation; `field` names the first failing field'),
  429: errorResponse('LAB-E013: account temporarily locked after failed logins'),
  500: errorResponse('LAB-E001: internal error'),
} as const;

/** The security requirement of routes that need a signed-in user. */
export const SESSION_SECURITY = [{ sessionCookie: [] }];
/** State-changing routes with a session also need the CSRF header. */
export const SESSION_AND_CSRF_SECURITY = [{ sessionCookie: [], csrfHeader: [] }];
