import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';

/**
 * The landing page a person sees when opening the URL the lab prints. Static, bilingual, no
 * scripts (the CSP forbids inline ones). The workspace UI replaces it when it is built.
 */
const PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>数据实验室 Data Lab</title>
<link rel="stylesheet" href="/assets/home.css">
</head>
<body>
<h1>数据实验室 <span class="en">Data Lab</span></h1>
<p>原始数据不出域、数据可用不可见：分析流程在各部门数据域内运行，只有通过披露审查的统计结果才能离开。<br>
<span class="en">Raw data never leaves its department; pipelines run inside each data domain and only guarded aggregates come out.</span></p>
<ul>
  <li><a href="/api/docs">接口文档 <span class="en">API documentation</span></a> — <code>/api/openapi.json</code></li>
  <li><a href="/api/health">运行状态 <span class="en">Health of the databases, queue and domain workers</span></a></li>
  <li>登录 <span class="en">Sign in</span>: <code>POST /api/auth/login</code> — 演示账号见启动输出 <span class="en">(demo logins are printed at start)</span></li>
  <li>数据目录（需登录）<span class="en">Catalog (signed in)</span>: <a href="/api/catalog"><code>/api/catalog</code></a></li>
</ul>
<p class="en">The drag-and-drop workspace is served here once it is built (<code>workspace-ui/</code>).</p>
</body>
</html>`;

const CSS = `  body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.6; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; }
  .en { color: #57606a; }
  li { margin: .4rem 0; }
  code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; }
`;

export function registerHomeRoutes(app: OpenAPIHono<AppEnv>): void {
  app.get('/', (c) => c.html(PAGE));
  app.get('/assets/home.css', (c) => c.body(CSS, 200, { 'content-type': 'text/css; charset=utf-8' }));
}
