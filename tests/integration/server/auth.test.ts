import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as argon2 from '@node-rs/argon2';

// Count argon2 verifications (the real implementation still runs).
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof argon2>();
  return { ...real, verify: vi.fn(real.verify) };
});
import { LabError } from '../../../sandbox/errors/index.ts';
import { createUser } from '../../../server/services/user.service.ts';
import { createServerHarness, jsonPost, signIn, type ServerHarness } from './server-harness.ts';

/** Login, sessions, lockout, CSRF and user creation, through the app object on real Postgres. */
describe('auth routes', () => {
  let h: ServerHarness;
  const PASSWORD = 'correct-horse-battery-42';
  const WRONG = 'wrong-password-XYZ-987';
  const passwordsSeen = [PASSWORD, WRONG];

  beforeAll(async () => {
    h = await createServerHarness();
    await createUser(h.lab.control, { username: 'ana', displayName: 'Ana 分析员', role: 'analyst', password: PASSWORD });
    await createUser(h.lab.control, { username: 'locky', displayName: 'Locky', role: 'analyst', password: PASSWORD });
    await createUser(h.lab.control, { username: 'resetty', displayName: 'Resetty', role: 'analyst', password: PASSWORD });
    await createUser(h.lab.control, { username: 'steward.civil', displayName: 'Civil steward', role: 'steward', domain: 'civil', password: PASSWORD });
    await createUser(h.lab.control, { username: 'gone', displayName: 'Disabled', role: 'officer', password: PASSWORD });
    await h.lab.control.kysely.updateTable('app_user').set({ disabled: true }).where('username', '=', 'gone').execute();
  });

  afterAll(async () => {
    // The password must never appear in any log line, whatever happened above.
    expect(h.logs.length).toBeGreaterThan(10);
    for (const line of h.logs) for (const pw of passwordsSeen) expect(line).not.toContain(pw);
    await h?.lab.drop();
  });

  const login = (username: string, password: string, headers: Record<string, string> = {}) =>
    h.app.request('/api/auth/login', jsonPost({ username, password }, headers));

  it('signs in: user, CSRF token, and an HttpOnly SameSite=Strict cookie on / (Secure only when configured)', async () => {
    const res = await login('ana', PASSWORD);
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, unknown>;
    expect(body).toEqual({
      user: { username: 'ana', displayName: 'Ana 分析员', role: 'analyst', domain: null },
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown,
    });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^lab_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    expect(JSON.stringify(body)).not.toContain(PASSWORD);

    const secure = await h.build({ secureCookies: true }).request('/api/auth/login', jsonPost({ username: 'ana', password: PASSWORD }));
    expect(secure.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('stores only the SHA-256 of the session token', async () => {
    const s = await signIn(h.app, 'ana', PASSWORD);
    const ids = (await h.lab.control.kysely.selectFrom('user_session').select('id').execute()).map((r) => r.id);
    expect(ids).toContain(createHash('sha256').update(s.token).digest('hex'));
    expect(ids).not.toContain(s.token);
  });

  it('wrong password, unknown user and disabled user get the same 401 LAB-E010 body', async () => {
    const wrong = await login('ana', WRONG);
    const unknown = await login('nobody', WRONG);
    const disabled = await login('gone', PASSWORD);
    expect([wrong.status, unknown.status, disabled.status]).toEqual([401, 401, 401]);
    const bodies = [await wrong.json(), await unknown.json(), await disabled.json()];
    expect(bodies[0]).toEqual({ code: 'LAB-E010', message: '用户名或密码错误' });
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    // A later correct login of ana still works (one failure does not lock).
    expect((await login('ana', PASSWORD)).status).toBe(200);
  });

  it('verifies exactly one argon2 hash for an unknown user, as for a wrong password (no timing oracle)', async () => {
    const verify = vi.mocked(argon2.verify);
    await login('nobody', WRONG); // warm-up: the dummy hash is made once
    verify.mockClear();
    expect((await login('nobody', WRONG)).status).toBe(401);
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockClear();
    expect((await login('resetty', WRONG)).status).toBe(401);
    expect(verify).toHaveBeenCalledTimes(1);
    await h.lab.control.kysely.updateTable('app_user').set({ failed_logins: 0, locked_until: null }).where('username', '=', 'resetty').execute();
  });

  it('locks the account for 15 minutes after 5 consecutive failures (429 LAB-E013), even for the right password', async () => {
    for (let i = 1; i <= 4; i++) expect((await login('locky', WRONG)).status, `failure ${i}`).toBe(401);
    const fifth = await login('locky', WRONG);
    expect(fifth.status).toBe(429);
    expect((await fifth.json() as { code: string }).code).toBe('LAB-E013');
    const right = await login('locky', PASSWORD);
    expect(right.status).toBe(429);
    const body = await right.json() as { code: string; message: string };
    expect(body.code).toBe('LAB-E013');
    expect(body.message).toMatch(/锁定/);
    const row = await h.lab.control.kysely.selectFrom('app_user').select(['failed_logins', 'locked_until']).where('username', '=', 'locky').executeTakeFirstOrThrow();
    expect(row.failed_logins).toBe(5);
    const lockMs = (row.locked_until?.getTime() ?? 0) - Date.now();
    expect(lockMs).toBeGreaterThan(14 * 60_000);
    expect(lockMs).toBeLessThanOrEqual(15 * 60_000);

    // When the lock has run out, the right password works and the count is reset.
    await h.lab.control.kysely.updateTable('app_user').set({ locked_until: new Date(Date.now() - 1000) }).where('username', '=', 'locky').execute();
    expect((await login('locky', PASSWORD)).status).toBe(200);
    const after = await h.lab.control.kysely.selectFrom('app_user').select(['failed_logins', 'locked_until']).where('username', '=', 'locky').executeTakeFirstOrThrow();
    expect(after).toEqual({ failed_logins: 0, locked_until: null });
  });

  it('counts only consecutive failures: a success resets the count', async () => {
    for (let i = 0; i < 3; i++) expect((await login('resetty', WRONG)).status).toBe(401);
    expect((await login('resetty', PASSWORD)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login('resetty', WRONG)).status).toBe(401);
    expect((await login('resetty', PASSWORD)).status).toBe(200);
  });

  it('me: 401 LAB-E011 without a session, the user and CSRF token with one', async () => {
    const anon = await h.app.request('/api/auth/me');
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({ code: 'LAB-E011', message: '未登录或会话已过期' });
    const bogus = await h.app.request('/api/auth/me', { headers: { cookie: 'lab_session=' + 'A'.repeat(43) } });
    expect(bogus.status).toBe(401);

    const s = await signIn(h.app, 'steward.civil', PASSWORD);
    const me = await h.app.request('/api/auth/me', { headers: { cookie: s.cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({
      user: { username: 'steward.civil', displayName: 'Civil steward', role: 'steward', domain: 'civil' },
      csrfToken: s.csrfToken,
    });
  });

  it('logout deletes the session and clears the cookie', async () => {
    const s = await signIn(h.app, 'ana', PASSWORD);
    const out = await h.app.request('/api/auth/logout', { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^lab_session=; Max-Age=0/);
    const id = createHash('sha256').update(s.token).digest('hex');
    expect(await h.lab.control.kysely.selectFrom('user_session').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    expect((await h.app.request('/api/auth/me', { headers: { cookie: s.cookie } })).status).toBe(401);
    // Without a session, logout is a harmless no-op.
    expect((await h.app.request('/api/auth/logout', { method: 'POST' })).status).toBe(204);
  });

  it('refuses an expired session and deletes it', async () => {
    const s = await signIn(h.app, 'ana', PASSWORD);
    const id = createHash('sha256').update(s.token).digest('hex');
    await h.lab.control.kysely.updateTable('user_session').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', id).execute();
    const me = await h.app.request('/api/auth/me', { headers: { cookie: s.cookie } });
    expect(me.status).toBe(401);
    expect((await me.json() as { code: string }).code).toBe('LAB-E011');
    expect(await h.lab.control.kysely.selectFrom('user_session').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
  });

  it('extends a session when it is used', async () => {
    const s = await signIn(h.app, 'ana', PASSWORD);
    const id = createHash('sha256').update(s.token).digest('hex');
    const soon = new Date(Date.now() + 60_000);
    await h.lab.control.kysely.updateTable('user_session')
      .set({ expires_at: soon, last_seen_at: new Date(Date.now() - 5 * 60_000) }).where('id', '=', id).execute();
    expect((await h.app.request('/api/auth/me', { headers: { cookie: s.cookie } })).status).toBe(200);
    const row = await h.lab.control.kysely.selectFrom('user_session').select('expires_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.expires_at.getTime()).toBeGreaterThan(Date.now() + 7.9 * 3600_000);
  });

  it('honours a configured session lifetime', async () => {
    const app = h.build({ sessionTtlMs: 1000 });
    const s = await signIn(app, 'ana', PASSWORD);
    const id = createHash('sha256').update(s.token).digest('hex');
    const row = await h.lab.control.kysely.selectFrom('user_session').select(['created_at', 'expires_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(1000);
  });

  it('a disabled user’s live sessions stop working', async () => {
    await createUser(h.lab.control, { username: 'soon.gone', displayName: 'Soon gone', role: 'analyst', password: PASSWORD });
    const s = await signIn(h.app, 'soon.gone', PASSWORD);
    await h.lab.control.kysely.updateTable('app_user').set({ disabled: true }).where('username', '=', 'soon.gone').execute();
    expect((await h.app.request('/api/auth/me', { headers: { cookie: s.cookie } })).status).toBe(401);
  });

  it('requires the CSRF token on a state-changing request made with a session (403 LAB-E012)', async () => {
    const s = await signIn(h.app, 'ana', PASSWORD);
    const missing = await h.app.request('/api/auth/logout', { method: 'POST', headers: { cookie: s.cookie } });
    expect(missing.status).toBe(403);
    expect((await missing.json() as { code: string }).code).toBe('LAB-E012');
    const wrong = await h.app.request('/api/auth/logout', { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': 'x'.repeat(43) } });
    expect(wrong.status).toBe(403);
    const other = await signIn(h.app, 'ana', PASSWORD);
    const crossed = await h.app.request('/api/auth/logout', { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': other.csrfToken } });
    expect(crossed.status).toBe(403);
    // The session survived the refused requests; the right token works.
    expect((await h.app.request('/api/auth/me', { headers: { cookie: s.cookie } })).status).toBe(200);
    const ok = await h.app.request('/api/auth/logout', { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
    expect(ok.status).toBe(204);
    // GET needs no token; login needs none even with a session cookie (and replaces that session).
    const again = await signIn(h.app, 'ana', PASSWORD);
    const relogin = await login('ana', PASSWORD, { cookie: again.cookie });
    expect(relogin.status).toBe(200);
    expect((await h.app.request('/api/auth/me', { headers: { cookie: again.cookie } })).status).toBe(401);
  });

  it('validates the login body: 422 LAB-E003 naming the field, 400 LAB-E002 for malformed JSON', async () => {
    const missing = await h.app.request('/api/auth/login', jsonPost({ username: 'ana' }));
    expect(missing.status).toBe(422);
    const body = await missing.json() as { code: string; field: string; message: string };
    expect(body.code).toBe('LAB-E003');
    expect(body.field).toBe('password');
    expect(body.message).toContain('password');
    const tooLong = await h.app.request('/api/auth/login', jsonPost({ username: 'ana', password: PASSWORD.repeat(100) }));
    expect(tooLong.status).toBe(422);
    expect(await tooLong.text()).not.toContain(PASSWORD);

    const malformed = await h.app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"username":"ana","password":"${PASSWORD}"` });
    expect(malformed.status).toBe(400);
    const mb = await malformed.json() as { code: string; message: string };
    expect(mb.code).toBe('LAB-E002');
    expect(mb.message).not.toContain(PASSWORD);

    const wrongType = await h.app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(wrongType.status).toBe(400);
    expect((await wrongType.json() as { code: string }).code).toBe('LAB-E002');
  });

  it('refuses bodies over 256 KB with 413 LAB-E005', async () => {
    const res = await h.app.request('/api/auth/login', jsonPost({ username: 'ana', password: 'x'.repeat(300 * 1024) }));
    expect(res.status).toBe(413);
    expect((await res.json() as { code: string }).code).toBe('LAB-E005');
  });

  it('answers in English when the client prefers it', async () => {
    const en = await login('ana', WRONG, { 'accept-language': 'en-GB,en;q=0.9,zh-CN;q=0.5' });
    expect(await en.json()).toEqual({ code: 'LAB-E010', message: 'Wrong user name or password' });
    const zh = await login('ana', WRONG, { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' });
    expect(await zh.json()).toEqual({ code: 'LAB-E010', message: '用户名或密码错误' });
    await h.lab.control.kysely.updateTable('app_user').set({ failed_logins: 0 }).where('username', '=', 'ana').execute();
  });

  it('logs sign-ins and refusals without the username typed or the password', () => {
    const refused = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'sign-in refused');
    expect(refused.map((l) => l['reason'])).toEqual(expect.arrayContaining(['unknown-user', 'bad-password', 'disabled', 'locked', 'locked-now']));
    for (const l of refused) expect(JSON.stringify(l)).not.toContain('nobody');
  });
});

describe('createUser', () => {
  let h: ServerHarness;
  beforeAll(async () => { h = await createServerHarness(); });
  afterAll(async () => { await h?.lab.drop(); });

  const base = { username: 'wang.fang', displayName: '王芳', role: 'officer' as const, password: 'a-long-enough-password' };
  const failure = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(LabError);
    return e as LabError;
  };

  it('creates a user with an argon2id hash, never the password', async () => {
    const u = await createUser(h.lab.control, base);
    expect(u).toMatchObject({ username: 'wang.fang', displayName: '王芳', role: 'officer', domain: null });
    const row = await h.lab.control.kysely.selectFrom('app_user').selectAll().where('username', '=', 'wang.fang').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(row.password_hash).not.toContain(base.password);
  });

  it('refuses a duplicate with 409 LAB-E014', async () => {
    const e = await failure(createUser(h.lab.control, base));
    expect(e.code).toBe('LAB-E014');
    expect(e.status).toBe(409);
  });

  it('validates username, domain rules and password length (LAB-E003 with the field)', async () => {
    const cases: [Parameters<typeof createUser>[1], string][] = [
      [{ ...base, username: 'Wang Fang' }, 'username'],
      [{ ...base, username: 'x' }, 'username'],
      [{ ...base, username: 'steward.x', role: 'steward' }, 'domain'],
      [{ ...base, username: 'steward.y', role: 'steward', domain: 'tax' }, 'domain'],
      [{ ...base, username: 'ana.two', role: 'analyst', domain: 'civil' }, 'domain'],
      [{ ...base, username: 'short.pw', password: 'elevenchars' }, 'password'],
      [{ ...base, username: 'blank', displayName: '  ' }, 'displayName'],
    ];
    for (const [input, field] of cases) {
      const e = await failure(createUser(h.lab.control, input));
      expect(e.code, input.username).toBe('LAB-E003');
      expect(e.field, input.username).toBe(field);
      expect(e.messageIn('en')).not.toContain(input.password);
    }
    const steward = await createUser(h.lab.control, { ...base, username: 'steward.health', role: 'steward', domain: 'health' });
    expect(steward.domain).toBe('health');
  });
});
