import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps, HealthReport } from '../../../server/app-deps.ts';
import type { AppEnv } from '../../../server/app-env.ts';
import { buildApp } from '../../../server/app.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

/**
 * A server app on a throwaway control database, with every log line captured (so tests can
 * assert what is and is not logged) and a health probe the test controls.
 */
export interface ServerHarness {
  lab: TestLab;
  app: OpenAPIHono<AppEnv>;
  logs: string[];
  setHealth(report: HealthReport | (() => Promise<HealthReport>)): void;
  build(config: Partial<AppDeps['config']>): OpenAPIHono<AppEnv>;
}

export const OK_HEALTH: HealthReport = { status: 'ok', mode: 'postgres', checks: { 'control-db': { ok: true, latencyMs: 1 } } };

export async function createServerHarness(): Promise<ServerHarness> {
  const lab = await createPgTestLab();
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => { logs.push(line); } });
  let health: () => Promise<HealthReport> = () => Promise.resolve(OK_HEALTH);
  const build = (config: Partial<AppDeps['config']>) => buildApp({
    control: lab.control, logger, health: () => health(), // Many sign-ins from one test process: the login rate limit is tested on its own (server/middleware/login-rate-limit).
    config: { secureCookies: false, loginRateLimit: { perClient: 100_000, global: 100_000 }, ...config },
  });
  return {
    lab, logs, build,
    app: build({}),
    setHealth(report) { health = typeof report === 'function' ? report : () => Promise.resolve(report); },
  };
}

export interface SignedIn { cookie: string; token: string; csrfToken: string; setCookie: string }

export const jsonPost = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});

/** Signs in through the API and returns the cookie header value and the CSRF token. */
export async function signIn(app: OpenAPIHono<AppEnv>, username: string, password: string): Promise<SignedIn> {
  const res = await app.request('/api/auth/login', jsonPost({ username, password }));
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const token = /lab_session=([^;]+)/.exec(setCookie)?.[1] ?? '';
  const body = await res.json() as { csrfToken: string };
  return { cookie: `lab_session=${token}`, token, csrfToken: body.csrfToken, setCookie };
}
