import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';

/**
 * The API's own description: `GET /api/openapi.json` (OpenAPI 3.1, generated from the zod route
 * definitions) and `GET /api/docs`, an HTML page rendered on the server from that same document.
 * The page loads nothing from anywhere else and runs no script (the CSP forbids both).
 */

export const API_TITLE = 'Data Lab API';
export const API_VERSION = '0.1.0';

type OpenApiDocument = ReturnType<OpenAPIHono<AppEnv>['getOpenAPI31Document']>;

export function openApiDocument(app: OpenAPIHono<AppEnv>): OpenApiDocument {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: API_TITLE,
      version: API_VERSION,
      description: 'Data Lab 数据实验室: privacy-computing sandbox for megacity population data. '
        + 'Errors carry a stable LAB-E code (docs/errors.md); messages follow Accept-Language (zh-CN by default, en).',
    },
  });
}

export function registerDocsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'sessionCookie', {
    type: 'apiKey', in: 'cookie', name: 'lab_session', description: 'set by POST /api/auth/login',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'csrfHeader', {
    type: 'apiKey', in: 'header', name: 'x-csrf-token', description: 'the csrfToken returned at login; required on state-changing requests made with a session',
  });
  // The document is built once, on first request, after every route is registered.
  let doc: OpenApiDocument | undefined;
  let page: string | undefined;
  const getDoc = () => (doc ??= openApiDocument(app));
  app.get('/api/openapi.json', (c) => c.json(getDoc()));
  app.get('/api/docs', (c) => c.html(page ??= renderDocsPage(getDoc())));
  app.get('/api/docs/docs.css', (c) => c.body(DOCS_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }));
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The schema's component name(s), e.g. `CatalogDataset[]`, or a short description of an inline schema. */
function schemaName(schema: unknown): string {
  if (!schema || typeof schema !== 'object') return '—';
  const s = schema as Record<string, unknown>;
  if (typeof s['$ref'] === 'string') return s['$ref'].split('/').pop() ?? s['$ref'];
  if (s['type'] === 'array') return `${schemaName(s['items'])}[]`;
  if (Array.isArray(s['allOf']) && s['allOf'].length === 1) return schemaName(s['allOf'][0]);
  if (typeof s['type'] === 'string') return s['type'];
  return 'inline';
}

function contentSchema(content: unknown): string {
  if (!content || typeof content !== 'object') return '—';
  const json = (content as Record<string, { schema?: unknown } | undefined>)['application/json'];
  return json ? schemaName(json.schema) : Object.keys(content).join(', ');
}

function propertiesOf(schema: Record<string, unknown>): { name: string; type: string; required: boolean; description: string }[] {
  const props = schema['properties'];
  if (!props || typeof props !== 'object') return [];
  const required = new Set(Array.isArray(schema['required']) ? schema['required'].map(String) : []);
  return Object.entries(props as Record<string, Record<string, unknown>>).map(([name, p]) => {
    let type = schemaName(p);
    if (type === 'inline' && Array.isArray(p['anyOf'])) type = p['anyOf'].map(schemaName).join(' | ');
    if (Array.isArray(p['type'])) type = p['type'].map(String).join(' | ');
    if (Array.isArray(p['enum'])) type = p['enum'].map((v) => JSON.stringify(v)).join(' | ');
    return { name, type, required: required.has(name), description: typeof p['description'] === 'string' ? p['description'] : '' };
  });
}

export function renderDocsPage(doc: OpenApiDocument): string {
  const rows: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const body = op.requestBody && 'content' in op.requestBody ? contentSchema(op.requestBody.content) : '—';
      const responses = Object.entries(op.responses ?? {}).map(([status, r]) => {
        const content = r && typeof r === 'object' && 'content' in r ? r.content : undefined;
        return `<li><code>${escapeHtml(status)}</code> ${escapeHtml(content ? contentSchema(content) : '(no body)')}</li>`;
      }).join('');
      const auth = op.security && op.security.length > 0 ? op.security.map((s) => Object.keys(s).join(' + ')).join(' or ') : 'none';
      rows.push(`<tr id="${escapeHtml(`${method}-${path}`)}"><td class="method ${method}">${method.toUpperCase()}</td><td><code>${escapeHtml(path)}</code></td>`
        + `<td>${escapeHtml(op.summary ?? '')}</td><td>${escapeHtml(auth)}</td><td>${escapeHtml(body)}</td><td><ul>${responses}</ul></td></tr>`);
    }
  }
  const schemas = Object.entries(doc.components?.schemas ?? {}).map(([name, raw]) => {
    const s = raw as Record<string, unknown>;
    const props = propertiesOf(s).map((p) =>
      `<tr><td><code>${escapeHtml(p.name)}</code>${p.required ? '' : '?'}</td><td>${escapeHtml(p.type)}</td><td>${escapeHtml(p.description)}</td></tr>`).join('');
    const description = typeof s['description'] === 'string' ? `<p>${escapeHtml(s['description'])}</p>` : '';
    return `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${description}`
      + (props ? `<table><thead><tr><th>field</th><th>type</th><th>description</th></tr></thead><tbody>${props}</tbody></table>` : `<p>${escapeHtml(schemaName(s))}</p>`)
      + '</section>';
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.info.title)} ${escapeHtml(doc.info.version)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/api/docs/docs.css"></head>
<body><h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)} · OpenAPI ${escapeHtml(doc.openapi)}</small></h1>
<p>${escapeHtml(doc.info.description ?? '')}</p>
<p>Machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
<h2>Routes</h2>
<table class="routes"><thead><tr><th>method</th><th>path</th><th>summary</th><th>auth</th><th>request body</th><th>responses</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<h2>Schemas</h2>
${schemas}
</body></html>
`;
}

const DOCS_CSS = `body{font:14px/1.5 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:80rem}
h1 small{font-size:.55em;color:#57606a;font-weight:normal}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
ul{margin:0;padding-left:1rem}
code{font-family:ui-monospace,monospace}
.method{font-weight:bold;font-family:ui-monospace,monospace}
.get{color:#0969da}.post{color:#1a7f37}.put,.patch{color:#9a6700}.delete{color:#cf222e}
`;
