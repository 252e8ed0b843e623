import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../../sandbox/errors/index.ts';
import type { AppEnv } from '../../app-env.ts';
import { loginRateLimit } from './index.ts';

function appWith(options: Parameters<typeof loginRateLimit>[0]) {
  const app = new Hono<AppEnv>();
  app.use('/login', loginRateLimit(options));
  app.post('/login', (c) => c.text('checked'));
  app.onError((e, c) => c.json({ code: isLabError(e) ? e.code : 'x' }, isLabError(e) ? 429 : 500));
  return app;
}

describe('login rate limit', () => {
  it('refuses a client over its limit with 429 LAB-E006 and Retry-After, before the password is checked; a new window lets it in', async () => {
    let now = 1_000_000;
    const app = appWith({ perClient: 3, global: 100, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) expect((await app.request('/login', { method: 'POST' })).status).toBe(200);
    const over = await app.request('/login', { method: 'POST' });
    expect(over.status).toBe(429);
    expect(await over.json()).toEqual({ code: 'LAB-E006' });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    now += 60_000;
    expect((await app.request('/login', { method: 'POST' })).status).toBe(200);
  });

  it('has a global limit too (spraying one password over many accounts from many addresses)', async () => {
    const app = appWith({ perClient: 100, global: 5, now: () => 0 });
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await app.request('/login', { method: 'POST' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });
});
