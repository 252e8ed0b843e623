import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../sandbox/store/database.ts';
import { buildApp } from '../../../server/app.ts';
import type { ControlSchema } from '../../../server/db/control.schema.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import { createServerHarness, OK_HEALTH, type ServerHarness } from './server-harness.ts';

/** Cross-cutting behaviour of the app: errors, headers, request ids, logs, health, OpenAPI, docs. */
describe('server app', () => {
  let h: ServerHarness;
  beforeAll(async () => { h = await createServerHarness(); });
  afterAll(async () => { await h?.lab.drop(); });

  const logLines = () => h.logs.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('unknown route → 404 LAB-E004, in the language asked for', async () => {
    const zh = await h.app.request('/api/nope');
    expect(zh.status).toBe(404);
    expect(await zh.json()).toEqual({ code: 'LAB-E004', message: '资源不存在：没有 GET /api/nope 接口' });
    const en = await h.app.request('/api/nope', { method: 'DELETE', headers: { 'accept-language': 'en' } });
    expect(en.status).toBe(404);
    expect(await en.json()).toEqual({ code: 'LAB-E004', message: 'Not found: no route DELETE /api/nope' });
  });

  it('an internal error → 500 LAB-E001 with no internals in the body, logged with its stack', async () => {
    const secret = 'connect ECONNREFUSED 10.1.2.3:5432 user=lab_control';
    h.setHealth(() => Promise.reject(new Error(secret)));
    const res = await h.app.request('/api/health', { headers: { 'x-request-id': 'boom-0001' } });
    h.setHealth(OK_HEALTH);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ code: 'LAB-E001', message: '内部错误' });
    expect(text).not.toContain('ECONNREFUSED');
    const logged = logLines().find((l) => l['reqId'] === 'boom-0001' && l['level'] === 50);
    const err = logged?.['err'] as { message?: string; stack?: string } | undefined;
    expect(err?.message).toBe(secret);
    expect(err?.stack).toMatch(/at /);
  });

  it('health: 200 when ok or degraded, 503 when down; no sign-in needed', async () => {
    expect((await h.app.request('/api/health')).status).toBe(200);
    const degraded = { status: 'degraded', mode: 'embedded', checks: { 'domain:civil': { ok: false, error: 'no worker heartbeat' } } } as const;
    h.setHealth(degraded);
    const d = await h.app.request('/api/health');
    expect(d.status).toBe(200);
    expect(await d.json()).toEqual(degraded);
    h.setHealth({ status: 'down', mode: 'postgres', checks: { 'control-db': { ok: false, latencyMs: 5000, error: 'timeout' } } });
    // A session cookie is not looked up here: health must answer when the control DB does not.
    const down = await h.app.request('/api/health', { headers: { cookie: `lab_session=${'A'.repeat(43)}` } });
    expect(down.status).toBe(503);
    expect((await down.json() as { status: string }).status).toBe('down');
    h.setHealth(OK_HEALTH);
  });

  it('health answers from the probe even when the control database is unreachable and a cookie is sent', async () => {
    const dead = new Proxy({}, { get() { throw new Error('control database unreachable'); } }) as Database<ControlSchema>;
    const app = buildApp({
      control: dead, logger: createLogger('silent'), config: { secureCookies: false },
      health: () => Promise.resolve({ status: 'down', mode: 'postgres', checks: { 'control-db': { ok: false, error: 'unreachable' } } }),
    });
    const cookie = `lab_session=${'A'.repeat(43)}`;
    expect((await app.request('/api/health', { headers: { cookie } })).status).toBe(503);
    const me = await app.request('/api/auth/me', { headers: { cookie } });
    expect(me.status).toBe(500);
    expect(await me.json()).toEqual({ code: 'LAB-E001', message: '内部错误' });
  });

  it('echoes a sane x-request-id, replaces an unsafe one, and logs one line per request with it', async () => {
    const given = await h.app.request('/api/health', { headers: { 'x-request-id': 'client-abc_123' } });
    expect(given.headers.get('x-request-id')).toBe('client-abc_123');
    const unsafe = await h.app.request('/api/nope', { headers: { 'x-request-id': 'a b"c} {"level":60' } });
    const replaced = unsafe.headers.get('x-request-id') ?? '';
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    const none = await h.app.request('/api/nope');
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const line = logLines().find((l) => l['msg'] === 'request' && l['reqId'] === replaced);
    expect(line).toMatchObject({ method: 'GET', path: '/api/nope', status: 404, reqId: replaced });
    expect(typeof line?.['ms']).toBe('number');
    const healthLine = logLines().find((l) => l['msg'] === 'request' && l['reqId'] === 'client-abc_123');
    expect(healthLine).toMatchObject({ path: '/api/health', status: 200, level: 20 }); // health at debug
  });

  it('logs the path without the query string, and never headers or cookies', async () => {
    await h.app.request('/api/nope?token=sekrit-query', { headers: { cookie: 'lab_session=sekrit-cookie', authorization: 'Bearer sekrit-auth' } });
    const all = h.logs.join('\n');
    expect(all).not.toContain('sekrit');
  });

  it('sets the security headers on every response, errors included', async () => {
    for (const res of [await h.app.request('/api/health'), await h.app.request('/api/nope'), await h.app.request('/api/docs')]) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('serves an OpenAPI 3.1 document listing every API route the app has', async () => {
    const res = await h.app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json() as { openapi: string; info: { title: string }; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Data Lab API');
    const selfDescribing = new Set(['/api/openapi.json', '/api/docs', '/api/docs/docs.css']);
    const routes = h.app.routes
      .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/') && !selfDescribing.has(r.path))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, '{$1}')}`);
    expect(routes.length).toBeGreaterThanOrEqual(6);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(new Set(documented)).toEqual(new Set(routes));
    for (const r of ['get /api/health', 'post /api/auth/login', 'post /api/auth/logout', 'get /api/auth/me', 'get /api/catalog', 'get /api/catalog/geography']) {
      expect(documented).toContain(r);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['ErrorBody', 'LoginRequest', 'SessionInfo', 'HealthReport', 'CatalogDataset', 'GeoUnit']));
  });

  it('serves a docs page rendered from the document, with no scripts and nothing external', async () => {
    const res = await h.app.request('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/\sstyle=/);
    for (const p of ['/api/health', '/api/auth/login', '/api/auth/logout', '/api/auth/me', '/api/catalog', '/api/catalog/geography']) expect(html).toContain(`<code>${p}</code>`);
    expect(html).toContain('LoginRequest');
    expect(html).toContain('SessionInfo');
    const css = await h.app.request('/api/docs/docs.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });
});
