import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { LabError, isLabError, t, type Lang } from '../../sandbox/errors/index.ts';
import type { AppEnv } from '../app-env.ts';

/**
 * The one place the server turns failures into responses (`{ code, message, hint?, nodeId?, field? }`):
 * - LabError → its status and body; `unexpected` ones are logged with their stack and answered
 *   as a bare LAB-E001 (no detail, no internals);
 * - hono's HTTPException (malformed JSON, wrong media type, …) → the matching LAB code;
 * - anything else → logged with its stack, answered 500 LAB-E001.
 */

/** zh-CN unless the client ranks English above Chinese in `Accept-Language`. */
export function languageOf(header: string | undefined): Lang {
  if (!header) return 'zh-CN';
  const ranked = header.split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      return { tag: tag.trim(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((e) => e.q > 0 && (e.tag === 'en' || e.tag.startsWith('en-') || e.tag === 'zh' || e.tag.startsWith('zh-')))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.tag.startsWith('en') ? 'en' : 'zh-CN';
}

export const langOf = (c: Context): Lang => languageOf(c.req.header('accept-language'));

/** Hono's own HTTP exceptions (thrown by its validators and middleware) as lab errors. */
const FROM_HTTP_STATUS: Readonly<Record<number, () => LabError>> = {
  400: () => new LabError('LAB-E002', { detail: t('请求体不是合法的 JSON', 'the request body is not valid JSON') }),
  401: () => new LabError('LAB-E011'),
  403: () => new LabError('LAB-E012'),
  404: () => new LabError('LAB-E004'),
  413: () => new LabError('LAB-E005'),
  415: () => new LabError('LAB-E002', { detail: t('Content-Type 须为 application/json', 'Content-Type must be application/json') }),
  429: () => new LabError('LAB-E006'),
};

function fromHttpException(e: HTTPException): LabError {
  const make = FROM_HTTP_STATUS[e.status];
  return make ? make() : new LabError('LAB-E001', { cause: e });
}

export const errorHandler: ErrorHandler<AppEnv> = (err, c) => {
  const lang = langOf(c);
  const log = c.get('logger');
  let e: LabError;
  if (isLabError(err)) e = err;
  else if (err instanceof HTTPException) e = fromHttpException(err);
  else e = new LabError('LAB-E001', { cause: err });

  if (e.kind === 'unexpected' || e.status >= 500) {
    // The original error with its stack goes to the log only; the client gets the code.
    const original = isLabError(err) && err.cause !== undefined ? err.cause : err;
    log.error({ err: original, code: e.code }, 'request failed');
    const body = e.kind === 'unexpected' ? new LabError('LAB-E001').toBody(lang) : e.toBody(lang);
    return c.json(body, e.status as ContentfulStatusCode);
  }
  return c.json(e.toBody(lang), e.status as ContentfulStatusCode);
};

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) => {
  const e = new LabError('LAB-E004', { detail: t(`没有 ${c.req.method} ${c.req.path} 接口`, `no route ${c.req.method} ${c.req.path}`) });
  return c.json(e.toBody(langOf(c)), 404);
};

/**
 * OpenAPIHono's `defaultHook`: a zod validation failure becomes 422 LAB-E003 naming the first
 * failing field (dot-joined path). Zod messages never contain the input value.
 */
export function validationHook(result: { success: true } | { success: false; error: ZodError }): void {
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  const message = issue?.message ?? 'invalid';
  throw new LabError('LAB-E003', {
    detail: field
      ? t(`字段 ${field} 不符合要求（${message}）`, `field ${field}: ${message}`)
      : t(`请求不符合要求（${message}）`, `request: ${message}`),
    ...(field !== undefined ? { field } : {}),
  });
}
