import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../server/services/user.service.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import type { TestLab } from '../../support/pg-lab.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as { nodes: { id: string; params: Record<string, unknown> }[] } & Record<string, unknown>;

/**
 * The authorisation matrix: every route of the OpenAPI document × every role, on resources that
 * belong to someone else (another analyst, another researcher). The expected status is written
 * out here, not derived from the policy: this table is what the default policy must do. A denied
 * call is 403, or 404 where the caller may not learn the resource exists — and changes nothing.
 */
type Role = 'anonymous' | 'analyst' | 'officer' | 'researcher' | 'steward' | 'admin';
const ROLES: readonly Role[] = ['anonymous', 'analyst', 'officer', 'researcher', 'steward', 'admin'];
const USERNAME: Record<Exclude<Role, 'anonymous'>, string> = { analyst: 'analyst', officer: 'officer', researcher: 'researcher', steward: 'steward.registry', admin: 'admin' };

interface Fixture { pipeline: string; doneJob: string; waitingJob: string; rejectJob: string; reviewJob: string }
interface Case {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  url: (f: Fixture) => string;
  body?: (f: Fixture, policy: { cedar: string; params: unknown }) => unknown;
  expect: Record<Role, number>;
}

const all = (status: number, anonymous = 401): Record<Role, number> => ({ anonymous, analyst: status, officer: status, researcher: status, steward: status, admin: status });
const only = (allowed: Partial<Record<Role, number>>, otherwise: number): Record<Role, number> => ({ ...all(otherwise), ...allowed });

const CASES: readonly Case[] = [
  { method: 'GET', path: '/api/health', url: () => '/api/health', expect: all(200, 200) },
  { method: 'GET', path: '/api/ready', url: () => '/api/ready', expect: all(200, 200) },
  // With a session, admins only (Cedar ops.metrics); a bearer token (LAB_METRICS_TOKEN) is tests/integration/server/ops.test.ts.
  { method: 'GET', path: '/api/metrics', url: () => '/api/metrics', expect: only({ admin: 200 }, 403) },
  { method: 'GET', path: '/api/auth/me', url: () => '/api/auth/me', expect: all(200) },
  { method: 'GET', path: '/api/catalog', url: () => '/api/catalog', expect: all(200) },
  { method: 'GET', path: '/api/catalog/geography', url: () => '/api/catalog/geography', expect: all(200) },
  { method: 'GET', path: '/api/operators', url: () => '/api/operators', expect: all(200) },
  { method: 'POST', path: '/api/pipelines/validate', url: () => '/api/pipelines/validate', body: () => example('s1-population-rollup'), expect: only({ analyst: 200, officer: 200, researcher: 200 }, 403) },
  { method: 'POST', path: '/api/pipelines/disclosure-preview', url: () => '/api/pipelines/disclosure-preview', body: () => example('s1-population-rollup'), expect: only({ analyst: 200, officer: 200, researcher: 200 }, 403) },
  { method: 'POST', path: '/api/pipelines', url: () => '/api/pipelines', body: () => ({ ...example('s6-registry-new-inflow'), name: 'matrix' }), expect: only({ analyst: 201, officer: 201, researcher: 201 }, 403) },
  { method: 'GET', path: '/api/pipelines', url: () => '/api/pipelines', expect: only({ analyst: 200, officer: 200, researcher: 200 }, 403) },
  { method: 'GET', path: '/api/pipelines/{id}', url: (f) => `/api/pipelines/${f.pipeline}`, expect: all(404) },
  // Rename and delete: the owner only (pipeline.rename / pipeline.delete); others cannot learn it exists.
  { method: 'PATCH', path: '/api/pipelines/{id}', url: (f) => `/api/pipelines/${f.pipeline}`, body: () => ({ name: 'matrix' }), expect: all(404) },
  { method: 'DELETE', path: '/api/pipelines/{id}', url: (f) => `/api/pipelines/${f.pipeline}`, expect: all(404) },
  { method: 'GET', path: '/api/jobs', url: () => '/api/jobs', expect: all(200) },
  { method: 'POST', path: '/api/pipelines/{id}/runs', url: (f) => `/api/pipelines/${f.pipeline}/runs`, expect: all(404) },
  { method: 'GET', path: '/api/jobs/{id}', url: (f) => `/api/jobs/${f.doneJob}`, expect: only({ officer: 200 }, 404) },
  { method: 'GET', path: '/api/jobs/{id}/result', url: (f) => `/api/jobs/${f.doneJob}`.concat('/result'), expect: only({ officer: 200 }, 404) },
  // Export: the owner once released (result.export); officers read results to review them, they do not export them.
  { method: 'GET', path: '/api/jobs/{id}/result.csv', url: (f) => `/api/jobs/${f.doneJob}/result.csv`, expect: only({ officer: 403 }, 404) },
  { method: 'GET', path: '/api/jobs/{id}/result.xlsx', url: (f) => `/api/jobs/${f.doneJob}/result.xlsx`, expect: only({ officer: 403 }, 404) },
  { method: 'GET', path: '/api/jobs/{id}/events', url: (f) => `/api/jobs/${f.doneJob}/events`, expect: only({ officer: 200 }, 404) },
  { method: 'POST', path: '/api/jobs/{id}/cancel', url: (f) => `/api/jobs/${f.waitingJob}/cancel`, expect: only({ officer: 403 }, 404) },
  { method: 'GET', path: '/api/approvals', url: () => '/api/approvals', expect: only({ officer: 200 }, 403) },
  { method: 'POST', path: '/api/jobs/{id}/reject', url: (f) => `/api/jobs/${f.rejectJob}/reject`, body: () => ({ reason: 'matrix' }), expect: only({ officer: 200 }, 404) },
  { method: 'POST', path: '/api/jobs/{id}/review', url: (f) => `/api/jobs/${f.reviewJob}/review`, body: () => ({ decision: 'returned', reason: 'matrix' }), expect: only({ officer: 200 }, 404) },
  // Approving runs the job: last among the job routes (the officer's 200 is the first approval of two).
  { method: 'POST', path: '/api/jobs/{id}/approve', url: (f) => `/api/jobs/${f.waitingJob}/approve`, body: () => ({}), expect: only({ officer: 200 }, 404) },
  { method: 'GET', path: '/api/policies/current', url: () => '/api/policies/current', expect: only({ officer: 200, admin: 200 }, 403) },
  { method: 'GET', path: '/api/policies', url: () => '/api/policies', expect: only({ officer: 200, admin: 200 }, 403) },
  { method: 'GET', path: '/api/policies/{version}', url: () => '/api/policies/1', expect: only({ officer: 200, admin: 200 }, 403) },
  { method: 'POST', path: '/api/policies/check', url: () => '/api/policies/check', body: (_f, p) => ({ cedar: p.cedar, params: p.params }), expect: only({ officer: 200 }, 403) },
  // The officer is allowed and gets 409 (a stale base version): nothing is stored by anyone.
  { method: 'POST', path: '/api/policies', url: () => '/api/policies', body: (_f, p) => ({ cedar: p.cedar, params: p.params, baseVersion: 99 }), expect: only({ officer: 409 }, 403) },
  { method: 'GET', path: '/api/budgets', url: () => '/api/budgets', expect: all(200) },
  { method: 'GET', path: '/api/audit', url: () => '/api/audit', expect: only({ officer: 200, admin: 200 }, 403) },
  { method: 'GET', path: '/api/audit/verify', url: () => '/api/audit/verify', expect: only({ officer: 200, admin: 200 }, 403) },
  // Follow-up lists (I6): the stewards of that domain only (the matrix's steward looks after the registry; no list exists: 404 once allowed).
  { method: 'GET', path: '/api/domains/{id}/follow-ups', url: () => '/api/domains/registry/follow-ups', expect: only({ steward: 200 }, 403) },
  { method: 'GET', path: '/api/domains/{id}/follow-ups/{listId}', url: (f) => `/api/domains/registry/follow-ups/${f.doneJob}~out`, expect: only({ steward: 404 }, 403) },
  // Field photos: the grid domain's stewards only (the matrix's steward looks after the registry); tests/integration/server/photos.test.ts.
  { method: 'POST', path: '/api/domains/{id}/photos', url: () => '/api/domains/grid/photos', body: () => ({ photo: 'AAAA', idNumber: '440106199001011234', visit: { gridCode: '1', visitedOn: '2026-06-30' } }), expect: only({}, 403) },
];
/** Routes covered elsewhere, with why. */
const EXEMPT: Record<string, string> = {
  'POST /api/auth/login': 'public by nature; tests/integration/server/auth.test.ts',
  'POST /api/auth/logout': 'ends the caller’s own session only; auth.test.ts',
};

describe('authorisation matrix: every route × every role, on others’ resources', () => {
  const password = 'matrix-password-0';
  let served: ServedLab;
  let lab: TestLab;
  let baseUrl = '';
  let fixture: Fixture;
  let policy: { cedar: string; params: unknown };
  const clients = new Map<Role, ApiClient>();

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 'matrix', password });
    lab = served.lab;
    baseUrl = served.baseUrl;
    await createUser(lab.control, { username: 'analyst.other', displayName: 'other analyst', role: 'analyst', password });
    await createUser(lab.control, { username: 'researcher.other', displayName: 'other researcher', role: 'researcher', password });
    for (const r of ROLES) if (r !== 'anonymous') clients.set(r, await served.signIn(USERNAME[r]));
    const anon: ApiClient = {
      get: (path, headers = {}) => fetch(`${baseUrl}${path}`, { headers }),
      post: (path, body) => fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
      send: (method, path, body) => fetch(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
    };
    clients.set('anonymous', anon);

    // Someone else's resources: an analyst's pipeline and jobs, a researcher's job under review.
    const other = await served.signIn('analyst.other');
    const save = async (api: ApiClient, doc: unknown) => ((await (await api.post('/api/pipelines', doc)).json()) as { id: string }).id;
    const runOf = async (api: ApiClient, id: string) => ((await (await api.post(`/api/pipelines/${id}/runs`)).json()) as { jobId: string }).jobId;
    const pipeline = await save(other, example('s6-registry-new-inflow'));
    const doneJob = await runOf(other, pipeline);
    expect(await waitForJob(other, doneJob)).toMatchObject({ state: 'succeeded' });
    const l4 = example('s1-population-rollup');
    const active = l4.nodes.find((n) => n.id === 'active');
    if (active) active.params['condition'] = "status = 'active' AND NOT ends_with(id_number, 'X')";
    const l4Pipeline = await save(other, l4);
    const waitingJob = await runOf(other, l4Pipeline);
    const rejectJob = await runOf(other, l4Pipeline);
    const otherResearcher = await served.signIn('researcher.other');
    await lab.control.kysely.insertInto('project_member').values({ project_id: 'demo-floating-age', user_id: (await lab.control.kysely.selectFrom('app_user').select('id').where('username', '=', 'researcher.other').executeTakeFirstOrThrow()).id }).execute();
    await lab.control.kysely.insertInto('dp_budget').values({ project_id: 'demo-floating-age', user_id: (await lab.control.kysely.selectFrom('app_user').select('id').where('username', '=', 'researcher.other').executeTakeFirstOrThrow()).id, total: '3' }).execute();
    const reviewJob = await runOf(otherResearcher, await save(otherResearcher, example('s7-floating-age-structure')));
    expect((await clients.get('officer')?.post(`/api/jobs/${reviewJob}/approve`, {}))?.status).toBe(200);
    expect(await waitForJob(otherResearcher, reviewJob)).toMatchObject({ state: 'succeeded' });
    fixture = { pipeline, doneJob, waitingJob, rejectJob, reviewJob };
    policy = await (await (clients.get('officer') as ApiClient).get('/api/policies/current')).json() as { cedar: string; params: unknown };
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  it('the matrix covers every route of the OpenAPI document', async () => {
    const doc = await (await fetch(`${baseUrl}/api/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const covered = [...CASES.map((c) => `${c.method} ${c.path}`), ...Object.keys(EXEMPT)].sort();
    expect(covered).toEqual(documented);
  });

  for (const c of CASES) {
    it(`${c.method} ${c.path}`, async () => {
      // Denied roles first, the allowed ones last: a denied call must leave nothing for them to find changed.
      const order = [...ROLES].sort((a, b) => Number(c.expect[a] < 400) - Number(c.expect[b] < 400));
      const got: Partial<Record<Role, number>> = {};
      for (const role of order) {
        const api = clients.get(role);
        if (!api) throw new Error(role);
        const res = c.method === 'GET' ? await api.get(c.url(fixture))
          : c.method === 'POST' ? await api.post(c.url(fixture), c.body?.(fixture, policy))
          : await (api.send ?? (() => { throw new Error(`${role}: no client for ${c.method}`); }))(c.method, c.url(fixture), c.body?.(fixture, policy));
        got[role] = res.status;
        if (res.status >= 400) {
          const body = await res.json() as { code?: string };
          expect(body.code, `${role}: ${JSON.stringify(body)}`).toMatch(/^LAB-E\d{3}$/);
        } else await res.body?.cancel();
      }
      expect(got).toEqual(c.expect);
    });
  }

  it('denied calls changed nothing: no policy version, no approval, no pipeline by a steward or admin, jobs as they were', async () => {
    const { kysely } = lab.control;
    expect((await kysely.selectFrom('policy_version').select('version').execute()).map((r) => r.version)).toEqual([1]);
    const approvals = await kysely.selectFrom('approval').innerJoin('app_user', 'app_user.id', 'approval.officer_id').select(['app_user.username', 'approval.job_id']).execute();
    expect(approvals.every((a) => a.username === 'officer')).toBe(true);
    const owners = await kysely.selectFrom('pipeline').innerJoin('app_user', 'app_user.id', 'pipeline.owner_id').select('app_user.role').execute();
    expect(owners.every((o) => o.role !== 'steward' && o.role !== 'admin')).toBe(true);
    const waiting = await kysely.selectFrom('job').select(['state', 'approvals_required']).where('id', '=', fixture.waitingJob).executeTakeFirstOrThrow();
    expect(waiting).toMatchObject({ state: 'awaiting_approval', approvals_required: 2 });
    const others = await kysely.selectFrom('pipeline').select(['id', 'name', 'deleted_at']).where('id', '=', fixture.pipeline).executeTakeFirstOrThrow();
    expect(others).toMatchObject({ deleted_at: null });
    expect(others.name).not.toBe('matrix');
  });
});
