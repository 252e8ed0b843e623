import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { languageOf } from '../errors/error-handler.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { exportResult, type ExportFormat } from '../services/export.service.ts';
import { ErrorBodySchema, SESSION_SECURITY, errors } from './common.schema.ts';

/** Released tables as CSV or XLSX (policy result.export; every export audited). */

const IdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ (at most 64)').openapi({ param: { name: 'id', in: 'path' } }) });
const LangQuery = z.object({
  lang: z.enum(['zh-CN', 'en']).optional().openapi({ param: { name: 'lang', in: 'query' }, description: 'language of headings, marks and notes (default: Accept-Language, else zh-CN)' }),
});
const fail = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBodySchema } } });

const describeFormat = (format: ExportFormat) => (format === 'csv'
  ? 'CSV, UTF-8 with a byte-order mark (Excel reads Chinese correctly), CRLF; each table under its title'
  : 'XLSX, one worksheet per table');

const exportRoute = (format: ExportFormat) => createRoute({
  method: 'get', path: `/api/jobs/{id}/result.${format}`, tags: ['jobs'],
  summary: `The released tables of a finished job as ${format.toUpperCase()} (policy result.export: the owner, once released; audited)`,
  description: `${describeFormat(format)}. Laid out as the workspace's table: a rolled-up key reads "合计"/"All", a suppressed cell reads the table's mark "已抑制"/"Suppressed" (never a number), a geography key gives code and name; under each table a note states the guard's rules (threshold, rounding, noise, differential privacy). Every export is written to the audit trail (job.result.export: who, which job, which format).`,
  security: SESSION_SECURITY, middleware: [requireAuth()] as const, request: { params: IdParam, query: LangQuery },
  responses: {
    200: { description: `the file (Content-Disposition: attachment)`, content: { [format === 'csv' ? 'text/csv' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']: { schema: z.string().openapi({ format: 'binary' }) } } },
    401: errors[401], 403: fail('LAB-E137: the policy does not let you export this result (officers read results to review them; they do not export them)'),
    404: fail('LAB-E004: no such job (or not one you may read)'), 409: fail('LAB-E071: not finished, failed, or not released yet'), 422: errors[422],
  },
});

export const exportCsvRoute = exportRoute('csv');
export const exportXlsxRoute = exportRoute('xlsx');

export function registerExportRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  for (const [route, format] of [[exportCsvRoute, 'csv'], [exportXlsxRoute, 'xlsx']] as const) {
    app.openapi(route, async (c) => {
      const u = c.var.user;
      if (!u) throw new LabError('LAB-E011');
      const lang = c.req.valid('query').lang ?? languageOf(c.req.header('accept-language'));
      const file = await exportResult(deps.control, u, c.req.valid('param').id, format, lang);
      return new Response(file.body, {
        status: 200,
        headers: {
          'content-type': file.contentType,
          'content-disposition': `attachment; filename="${file.filename}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
          'cache-control': 'no-store',
        },
      }) as never; // a file is a plain Response; the typed-response union of OpenAPIHono has no member for it
    });
  }
}
