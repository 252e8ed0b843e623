import { OpenAPIHono } from '@hono/zod-openapi';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OPERATORS } from '../../../operators/index.ts';
import type { AppEnv } from '../../../server/app-env.ts';
import { notFoundHandler } from '../../../server/errors/error-handler.ts';
import { registerHomeRoutes } from '../../../server/routes/home.route.ts';
import type { OperatorRegistry } from '../../../server/routes/operator.route.ts';
import { createUser } from '../../../server/services/user.service.ts';
import { createServerHarness, signIn, type ServerHarness, type SignedIn } from './server-harness.ts';

/** GET /api/operators: what the workspace's palette and inspector are generated from. */
describe('operator registry route', () => {
  let h: ServerHarness;
  let s: SignedIn;
  const PASSWORD = 'operator-reader-pw-1';

  beforeAll(async () => {
    h = await createServerHarness();
    await createUser(h.lab.control, { username: 'ana', displayName: 'Ana', role: 'analyst', password: PASSWORD });
    s = await signIn(h.app, 'ana', PASSWORD);
  });
  afterAll(async () => { await h?.lab.drop(); });

  it('requires a signed-in user', async () => {
    const res = await h.app.request('/api/operators');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'LAB-E011' });
  });

  it('lists every registered operator with labels, ports, hints and a JSON Schema that accepts and refuses what zod does', async () => {
    const res = await h.app.request('/api/operators', { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    const body = await res.json() as OperatorRegistry;
    expect(body.operators.map((o) => o.ref)).toEqual(OPERATORS.map((o) => `${o.id}@${o.version}`));
    for (const op of OPERATORS) {
      const info = body.operators.find((o) => o.ref === `${op.id}@${op.version}`);
      expect(info).toMatchObject({ id: op.id, version: op.version, label: op.label, help: op.help, category: op.category, inputs: op.inputs, outputs: op.outputs });
      expect(info?.params).toEqual(expect.objectContaining({ type: 'object', additionalProperties: false }));
      expect(info?.params).not.toHaveProperty('$schema');
      // The schema's own declarations survive (the hints are supplementary, never a replacement).
      for (const [k, hint] of Object.entries(op.ui ?? {})) expect(info?.ui[k]).toEqual(hint);
      // Required in the JSON Schema = required by zod on input.
      const props = Object.keys((info?.params['properties'] ?? {}) as Record<string, unknown>);
      for (const p of props) {
        const without = z.toJSONSchema(op.params, { io: 'input', unrepresentable: 'any' }) as { required?: string[] };
        expect((info?.params['required'] as string[] | undefined)?.includes(p) ?? false, `${op.id}.${p}`).toBe(without.required?.includes(p) ?? false);
      }
    }
    const derive = body.operators.find((o) => o.ref === 'derive@1');
    expect(derive?.ui['columns.*.expr']).toEqual({ widget: 'expression' });
    expect(body.tags.tags.length).toBeGreaterThan(10);
    expect(body.tags.tags[0]).not.toHaveProperty('rule'); // rules stay on the server
    const doc = await (await h.app.request('/api/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(doc.paths).toHaveProperty('/api/operators');
  });
});

/** `/`, the workspace's own paths and `/assets/*`: the built UI when there is one, the landing page when not. */
describe('home route: serving the built workspace', () => {
  let dir: string;
  const appFor = (uiDir: string) => {
    const app = new OpenAPIHono<AppEnv>();
    registerHomeRoutes(app, { uiDir });
    app.notFound(notFoundHandler);
    return app;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-ui-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>数据实验室</title><script type="module" src="/assets/index-abc.js"></script>');
    const js = `console.log(${JSON.stringify('x'.repeat(4000))});`;
    writeFileSync(join(dir, 'assets', 'index-abc.js'), js);
    writeFileSync(join(dir, 'assets', 'index-abc.js.gz'), gzipSync(js));
  });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  it('answers index.html, never cached, at / and at the workspace\'s own paths', async () => {
    const app = appFor(dir);
    for (const p of ['/', '/editor', '/catalog', '/login']) {
      const res = await app.request(p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('/assets/index-abc.js');
    }
  });

  it('serves hashed assets for a year, gzipped to browsers that take it', async () => {
    const app = appFor(dir);
    const plain = await app.request('/assets/index-abc.js');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/javascript/);
    expect(plain.headers.get('cache-control')).toContain('immutable');
    expect((await plain.text()).length).toBeGreaterThan(4000);
    const gz = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
  });

  it('keeps API 404s as JSON and never turns a missing file or a path escape into the page', async () => {
    const app = appFor(dir);
    for (const p of ['/api/nope', '/assets/missing.js', '/favicon.ico', '/assets/../index.html']) {
      const res = await app.request(p);
      expect(res.status, p).toBe(404);
      expect(res.headers.get('content-type'), p).toMatch(/json/);
    }
  });

  it('shows the landing page when the workspace is not built', async () => {
    const app = appFor(join(dir, 'not-built'));
    const home = await app.request('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('npm run build:ui');
    expect((await app.request('/assets/home.css')).status).toBe(200);
    expect((await app.request('/editor')).status).toBe(404);
  });
});
