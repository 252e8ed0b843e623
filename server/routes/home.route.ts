import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveStatic } from '@hono/node-server/serve-static';
import type { MiddlewareHandler } from 'hono';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppEnv } from '../app-env.ts';

/**
 * The browser workspace (workspace-ui/, built by `npm run build:ui` into workspace-ui/dist; `npm
 * start` builds it when it is missing or older than its sources). Served from here:
 *
 * - `/assets/*`: the bundle's files. Their names carry a content hash, so they are cached for a
 *   year; a `.gz` beside a file is sent to browsers that accept gzip.
 * - `/` and every other GET outside `/api/` and `/assets/` (the workspace's own paths such as
 *   `/editor` or `/catalog`): `index.html`, never cached, so a rebuilt UI is picked up on reload.
 *
 * Without a built UI (tests that build only the API, a checkout where the build failed) `/` is a
 * static bilingual landing page. Both pages load only same-origin files: the CSP forbids inline
 * scripts and styles.
 */

export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../workspace-ui/dist/', import.meta.url));

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
<p>工作台尚未构建：运行 <code>npm run build:ui</code> 或重新 <code>npm start</code>。<br>
<span class="en">The drag-and-drop workspace is not built: run <code>npm run build:ui</code>, or <code>npm start</code> again.</span></p>
</body>
</html>`;

const CSS = `  body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.6; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; }
  .en { color: #57606a; }
  li { margin: .4rem 0; }
  code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; }
`;

export interface HomeOptions {
  /** The built workspace (default: workspace-ui/dist of this checkout). */
  readonly uiDir?: string;
}

/** index.html of the built UI, re-read when the file changes (a rebuild while the lab runs). */
function indexPage(uiDir: string): () => string | undefined {
  let cached: { mtimeMs: number; html: string } | undefined;
  const file = join(uiDir, 'index.html');
  return () => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      cached = undefined;
      return undefined;
    }
    if (!cached || cached.mtimeMs !== mtimeMs) cached = { mtimeMs, html: readFileSync(file, 'utf8') };
    return cached.html;
  };
}

export function registerHomeRoutes(app: OpenAPIHono<AppEnv>, options: HomeOptions = {}): void {
  const uiDir = options.uiDir ?? DEFAULT_UI_DIR;
  const page = indexPage(uiDir);
  let assets: MiddlewareHandler | undefined;

  app.get('/assets/home.css', (c) => c.body(CSS, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.get('/assets/*', async (c, next) => {
    // Created on first use: the UI may be built after the server started.
    if (!assets) {
      if (!existsSync(join(uiDir, 'assets'))) return next();
      assets = serveStatic({ root: uiDir, precompressed: true });
    }
    const res = await assets(c, next);
    // File names carry a content hash: a file never changes under its name.
    if (res && (res.status === 200 || res.status === 206)) res.headers.set('cache-control', 'public, max-age=31536000, immutable');
    return res;
  });
  app.get('*', (c) => {
    const path = c.req.path;
    // API paths and file names (e.g. /favicon.ico) are never the workspace's own pages.
    if (path.startsWith('/api/') || path === '/api' || path.startsWith('/assets/') || /\.[A-Za-z0-9]+$/.test(path)) return c.notFound();
    const html = page();
    if (html === undefined) return path === '/' ? c.html(PAGE) : c.notFound();
    c.header('cache-control', 'no-cache');
    return c.html(html);
  });
}
