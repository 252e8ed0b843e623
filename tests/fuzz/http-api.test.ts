import fc from 'fast-check';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import type { AppEnv } from '../../server/app-env.ts';
import { buildApp } from '../../server/app.ts';
import { ensureDemoUsers } from '../../server/lab/demo-users.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { createUser } from '../../server/services/user.service.ts';
import { signIn, type SignedIn } from '../integration/server/server-harness.ts';
import { createPgTestLab, type TestLab } from '../support/pg-lab.ts';
import { fuzzRuns, Tally } from './fuzz-support.ts';
import { CONTENT_TYPES, fromSchema, notJson, pathValue, queryString, spoil, spoilArb, type OpenApiDoc, type Operation, type Schema } from './openapi-arbitraries.ts';
import { jsonValue, mutatedPipeline, type Json } from './pipeline-arbitraries.ts';

/**
 * The HTTP API under mutated requests, route by route from its own OpenAPI document: signed in as
 * each role (or anonymous, or with a forged cookie), with or without the CSRF token, path and query
 * values of every sort, bodies generated from the documented schema and then spoiled, bodies that
 * are not JSON, wrong content types, huge bodies. The answer is never a 5xx, and every 4xx is JSON
 * with a LAB-E code.
 *
 * Routes whose side effects would spoil the lab for the rest of the run are driven so they cannot:
 * - POST /api/auth/logout: only with sessions of a user kept for it (and anonymously), never the
 *   sessions the other requests use;
 * - POST /api/auth/login: unknown users and that same user only (a refused sign-in counts towards a
 *   lockout), and few requests (each costs a password hash);
 * - POST /api/policies: a body holding `baseVersion: 1` (the version in force) is sent with 99
 *   instead, so no generated text can replace the policy in force.
 */

const tally = new Tally('HTTP API');
const PASSWORD = 'fuzz-demo-password-1';
const ROLE_USERS = { analyst: 'analyst', officer: 'officer', researcher: 'researcher', steward: 'steward.registry', admin: 'admin' } as const;
type Role = keyof typeof ROLE_USERS;
type Who = Role | 'anonymous' | 'forged' | 'logout';

let lab: TestLab;
let app: OpenAPIHono<AppEnv>;
let doc: OpenApiDoc;
const sessions = new Map<Role, SignedIn>();
const logoutSessions: SignedIn[] = [];
const errorLogs: string[] = [];
const fixture = { pipelines: [] as string[], jobs: [] as string[] };

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as { nodes: { id: string; params: Record<string, unknown> }[] };

beforeAll(async () => {
  lab = await createPgTestLab();
  const logger = createLogger('error', { write: (line: string) => { errorLogs.push(line); } });
  app = buildApp({
    control: lab.control, logger, queue: new InlineQueue(),
    health: () => Promise.resolve({ status: 'ok', mode: 'postgres', checks: {} }),
    config: { secureCookies: false, loginRateLimit: { perClient: 1_000_000, global: 1_000_000 } },
  });
  await ensureDemoUsers(lab.control, PASSWORD);
  await createUser(lab.control, { username: 'fuzz.logout', displayName: 'fuzz logout', role: 'analyst', password: PASSWORD });
  for (const [role, username] of Object.entries(ROLE_USERS) as [Role, string][]) sessions.set(role, await signIn(app, username, PASSWORD));
  for (let i = 0; i < 6; i++) logoutSessions.push(await signIn(app, 'fuzz.logout', PASSWORD));

  // Resources the generated requests may name: an analyst's pipelines and jobs (queued: no worker
  // runs here; and waiting for approval: L4 input).
  const analyst = sessions.get('analyst');
  if (!analyst) throw new Error('analyst');
  const post = async (path: string, body?: unknown) => {
    const res = await app.request(path, { method: 'POST', headers: { cookie: analyst.cookie, 'x-csrf-token': analyst.csrfToken, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return (await res.json()) as Record<string, string>;
  };
  const s6 = (await post('/api/pipelines', example('s6-registry-new-inflow')))['id'] ?? '';
  const l4doc = example('s1-population-rollup');
  const active = l4doc.nodes.find((n) => n.id === 'active');
  if (active) active.params['condition'] = "status = 'active' AND NOT ends_with(id_number, 'X')";
  const l4 = (await post('/api/pipelines', l4doc))['id'] ?? '';
  fixture.pipelines.push(s6, l4);
  for (const p of [s6, l4, l4]) fixture.jobs.push((await post(`/api/pipelines/${p}/runs`))['jobId'] ?? '');
  doc = await (await app.request('/api/openapi.json')).json() as OpenApiDoc;
}, 120_000);

afterAll(async () => {
  console.log(tally.report());
  await lab?.drop();
});

interface FuzzRequest {
  readonly who: Who;
  readonly csrf: 'ok' | 'missing' | 'wrong';
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: string | undefined;
  readonly lang: string;
  readonly lastEventId: string | undefined;
}

const realIds = (path: string, param: string): string[] =>
  param === 'version' ? ['1'] : path.startsWith('/api/pipelines/') ? [...fixture.pipelines, ...fixture.jobs.slice(0, 1)] : [...fixture.jobs, ...fixture.pipelines.slice(0, 1)];

/** Requests for one operation of the document. */
function requestsFor(path: string, method: string, op: Operation): fc.Arbitrary<FuzzRequest> {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryNames = params.filter((p) => p.in === 'query').map((p) => p.name);
  const url = fc.tuple(
    fc.tuple(...pathParams.map((p) => pathValue(p.schema?.type === 'integer' ? 'integer' : 'string', realIds(path, p.name)))),
    queryString(queryNames),
  ).map(([values, query]) => pathParams.reduce((u, p, i) => u.replace(`{${p.name}}`, values[i] ?? ''), path) + query);

  const schema: Schema | undefined = op.requestBody?.content?.['application/json']?.schema;
  const jsonText = (a: fc.Arbitrary<Json>) => fc.tuple(a, spoilArb).map(([v, s]) => JSON.stringify(spoil(v, s)));
  const bodies: { weight: number; arbitrary: fc.Arbitrary<string | undefined> }[] = [
    { weight: 2, arbitrary: notJson },
    { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ];
  if (schema) bodies.push({ weight: 6, arbitrary: jsonText(fromSchema(schema, doc)) });
  if (path === '/api/pipelines' || path === '/api/pipelines/validate') bodies.push({ weight: 6, arbitrary: mutatedPipeline.map((m) => JSON.stringify(m.doc)) });
  if (path === '/api/pipelines/{id}/runs') bodies.push({ weight: 3, arbitrary: jsonText(fc.record({ projectId: fc.oneof(fc.constantFrom('demo-floating-age', ''), fc.string()) }, { requiredKeys: [] }) as fc.Arbitrary<Json>) });
  // Now and then a body over the 256 KB limit.
  bodies.push({ weight: 0.3, arbitrary: fc.constant(`{"x":"${'y'.repeat(300 * 1024)}"}`) });

  const who: fc.Arbitrary<Who> = path === '/api/auth/logout'
    ? fc.constantFrom<Who>('logout', 'logout', 'anonymous', 'forged')
    : path === '/api/auth/login' ? fc.constantFrom<Who>('anonymous', 'anonymous', 'forged', 'analyst')
      : fc.constantFrom<Who>('anonymous', 'forged', 'analyst', 'analyst', 'officer', 'officer', 'researcher', 'steward', 'admin');
  const loginBody = fc.tuple(fc.record({
    username: fc.oneof(fc.constantFrom('fuzz.logout', 'nobody', 'Analyst', 'analyst ', ''), fc.string({ maxLength: 70 })),
    password: fc.oneof(fc.constant(PASSWORD), fc.string({ maxLength: 20 }), fc.constant('p'.repeat(2000))),
  }, { requiredKeys: [] }), spoilArb).map(([v, s]) => JSON.stringify(spoil(v as Json, s)));

  return fc.record({
    who,
    csrf: fc.constantFrom<'ok' | 'missing' | 'wrong'>('ok', 'ok', 'ok', 'ok', 'missing', 'wrong'),
    url,
    contentType: fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 6, arbitrary: fc.constantFrom<string>(...CONTENT_TYPES) }),
    body: method === 'get' ? fc.constant(undefined) : path === '/api/auth/login' ? fc.oneof(loginBody, notJson) : fc.oneof(...bodies.filter((b) => b.weight > 0).map((b) => ({ weight: Math.max(1, Math.round(b.weight * 10)), arbitrary: b.arbitrary }))),
    lang: fc.oneof(fc.constantFrom('', 'en', 'zh-CN', 'en;q=0.5, zh;q=0.9', 'en;q=abc', '*', 'x'.repeat(5000)), fc.string({ maxLength: 30 })),
    lastEventId: fc.option(fc.oneof(fc.constantFrom('1', '-1', '1e400', 'abc', '999999999999999999999'), fc.string({ maxLength: 10 })), { nil: undefined }),
  });
}

/** Policy edits never name the version in force, so no generated text replaces the policy. */
function tamed(path: string, body: string | undefined): string | undefined {
  if (path !== '/api/policies' || body === undefined) return body;
  try {
    const v = JSON.parse(body) as unknown;
    if (v !== null && typeof v === 'object' && (v as { baseVersion?: unknown }).baseVersion === 1) return JSON.stringify({ ...v, baseVersion: 99 });
  } catch { /* not JSON: sent as is */ }
  return body;
}

/**
 * Open bugs found by this suite (each has an it.fails test below); requests that would only hit
 * them again are counted, not sent.
 */
function knownBug(_method: string, _path: string, _r: FuzzRequest): string | undefined {
  // None open: pipeline-body-missing, nul-in-id and int4-out-of-range were fixed (see their tests below).
  return undefined;
}

async function send(method: string, path: string, r: FuzzRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (r.lang) headers['accept-language'] = r.lang;
  if (r.lastEventId !== undefined) headers['last-event-id'] = r.lastEventId;
  let s: SignedIn | undefined;
  if (r.who === 'logout') s = logoutSessions.shift();
  else if (r.who !== 'anonymous' && r.who !== 'forged') s = sessions.get(r.who);
  if (r.who === 'forged') headers['cookie'] = 'lab_session=forged-session-token-of-the-right-length-0000000';
  if (s) {
    headers['cookie'] = s.cookie;
    if (r.csrf === 'ok') headers['x-csrf-token'] = s.csrfToken;
    if (r.csrf === 'wrong') headers['x-csrf-token'] = `${s.csrfToken.slice(0, -1)}x`;
  }
  const body = tamed(path, r.body);
  if (body !== undefined && r.contentType !== undefined) headers['content-type'] = r.contentType;
  const res = await app.request(r.url, { method: method.toUpperCase(), headers, ...(body !== undefined && method !== 'get' ? { body } : {}) });
  // An event stream stays open: read nothing of a successful answer, just close it.
  if (res.status < 400) { await res.body?.cancel(); return { status: res.status, text: '' }; }
  return { status: res.status, text: await res.text() };
}

describe('HTTP API fuzzing from the OpenAPI document', () => {
  it('the document lists the routes this suite drives', () => {
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes.length).toBeGreaterThanOrEqual(25);
    expect(routes).toContain('POST /api/pipelines');
  });

  const runsFor = (path: string) => (path === '/api/auth/login' ? 30 : path.startsWith('/api/pipelines') ? 250 : 100);

  it('every route × mutated requests: never 5xx; every 4xx is JSON with a LAB-E code', async () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const route = `${method.toUpperCase()} ${path}`;
        await fc.assert(fc.asyncProperty(requestsFor(path, method, op), async (r) => {
          const bug = knownBug(method, path, r);
          if (bug) { tally.add(`skipped (known bug ${bug})`); return; }
          const { status, text } = await send(method, path, r);
          const what = `${route} as ${r.who} (csrf ${r.csrf}) → ${r.url.slice(0, 200)} [${r.contentType ?? 'no content-type'}] ${(r.body ?? '').slice(0, 300)}\n← ${status} ${text.slice(0, 300)}\n${errorLogs.slice(-1).join('')}`;
          expect(status, what).toBeLessThan(500);
          if (status >= 400) {
            let code: unknown;
            try { code = (JSON.parse(text) as { code?: unknown }).code; } catch { code = undefined; }
            expect(code, what).toMatch(/^LAB-E\d{3}$/);
          }
          tally.add(status >= 400 ? '4xx' : '2xx');
        }), fuzzRuns(runsFor(path)));
        tally.add('routes');
      }
    }
    expect(errorLogs.filter((l) => /"level":(50|"error")/.test(l))).toEqual([]);
    // The lab is as it was for the requests to come: the same policy in force, the sessions alive.
    const officer = sessions.get('officer');
    if (!officer) throw new Error('officer');
    const policy = await (await app.request('/api/policies/current', { headers: { cookie: officer.cookie } })).json() as { version?: number };
    expect(policy.version).toBe(1);
    for (const s of sessions.values()) expect((await app.request('/api/auth/me', { headers: { cookie: s.cookie } })).status).toBe(200);
  }, 300_000);

  // Found by this suite, fixed: POST /api/pipelines/validate or /api/pipelines with neither a body
  // nor a Content-Type answered 500 (c.req.json() on an empty body); now 400 LAB-E002.
  it.each(['/api/pipelines/validate', '/api/pipelines'])('known bug pipeline-body-missing: POST %s with no body and no Content-Type is a 4xx', async (path) => {
    const s = sessions.get('analyst');
    if (!s) throw new Error('analyst');
    const res = await app.request(path, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'LAB-E002' });
  });

  // Found by this suite, fixed: an id holding NUL reached Postgres (500); IdParam now accepts only
  // what an id can hold (letters, digits, - and _), so it is 422 LAB-E003.
  it.each([
    ['GET', '/api/jobs/%00'], ['GET', '/api/jobs/a%00b/result'], ['GET', '/api/jobs/%00/events'], ['POST', '/api/jobs/%00/cancel'],
    ['POST', '/api/pipelines/%00/runs'], ['POST', '/api/jobs/%00/approve'],
  ])('known bug nul-in-id: %s %s is a 4xx', async (method, path) => {
    const s = sessions.get('officer');
    if (!s) throw new Error('officer');
    const res = await app.request(path, { method, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
    expect(res.status).toBeLessThan(500);
  });

  // Found by this suite, fixed: a policy version above 2^31 − 1 reached an integer column (500);
  // VersionParam now has a maximum (422 LAB-E003).
  it.each(['/api/policies/2147483648', '/api/policies/1e10', '/api/policies/9007199254740991'])('known bug int4-out-of-range: GET %s is a 4xx', async (path) => {
    const s = sessions.get('officer');
    if (!s) throw new Error('officer');
    const res = await app.request(path, { headers: { cookie: s.cookie } });
    expect(res.status).toBeLessThan(500);
  });
});
