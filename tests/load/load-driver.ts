import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { openDatabase } from '../../sandbox/store/topology.ts';
import type { ControlSchema } from '../../server/db/control.schema.ts';
import { createUser } from '../../server/services/user.service.ts';
import type { LabProcess } from '../faults/lab-process.ts';

const S1 = readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8');

/**
 * A load of our own on a running lab (loopback only, bounded in count and time): N analyst
 * sessions, each an account of its own signed in from a loopback address of its own (127.0.0.x:
 * the sign-in limit counts per client address, as it would for N people), clicking through the
 * lab with think times — reading the catalog, operators, their pipelines and jobs; saving
 * pipelines; submitting an S1 job now and then, following its progress over SSE and reading its
 * result. Every request is timed by kind; the server's RSS and heap are sampled throughout.
 */
export interface LoadOptions {
  readonly sessions: number;
  readonly seconds: number;
  /** Mean seconds between one session's job submissions (exponential). Default 600 (an analyst runs a job every ten minutes or so). */
  readonly jobEverySeconds?: number;
  /** Mean think time between a session's clicks, ms (uniform 0.5×–1.5×). Default 2000. */
  readonly thinkMs?: number;
  /** After the deadline, how long to wait for submitted jobs to finish. Default 180 s. */
  readonly settleSeconds?: number;
  /** Bearer token the lab was started with (LAB_METRICS_TOKEN) to sample the heap. */
  readonly metricsToken: string;
  readonly log?: (line: string) => void;
}

export type Kind = 'read' | 'write' | 'submit' | 'sse' | 'login';
export interface KindStats { count: number; errors4xx: number; errors5xx: number; failed: number; p50: number; p95: number; p99: number; max: number }
export interface MemorySample { atS: number; rssMiB: number; heapMiB: number }
export interface LoadReport {
  sessions: number;
  seconds: number;
  requests: number;
  throughputPerS: number;
  byKind: Record<string, KindStats>;
  byRoute: Record<string, KindStats>;
  jobsSubmitted: number;
  jobsSucceeded: number;
  jobsNotFinished: number;
  jobsFailed: number;
  errors5xx: number;
  /** Requests that got no HTTP answer at all (connection refused/reset, timeout). */
  failedRequests: number;
  memory: MemorySample[];
  rss: { firstMinuteMiB: number; lastMinuteMiB: number; slopeMiBPerMin: number };
  heap: { firstMinuteMiB: number; lastMinuteMiB: number; slopeMiBPerMin: number };
}

interface Res { status: number; body: string }

const percentile = (sorted: readonly number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0 : 0);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Recorder {
  private readonly samples = new Map<string, { ms: number[]; e4: number; e5: number; failed: number }>();
  add(key: string, ms: number, status: number): void {
    let s = this.samples.get(key);
    if (!s) { s = { ms: [], e4: 0, e5: 0, failed: 0 }; this.samples.set(key, s); }
    if (status === 0) { s.failed += 1; return; }
    s.ms.push(ms);
    if (status >= 500) s.e5 += 1;
    else if (status >= 400) s.e4 += 1;
  }
  stats(): Record<string, KindStats> {
    const out: Record<string, KindStats> = {};
    for (const [k, s] of [...this.samples.entries()].sort()) {
      const sorted = [...s.ms].sort((a, b) => a - b);
      out[k] = { count: s.ms.length + s.failed, errors4xx: s.e4, errors5xx: s.e5, failed: s.failed, p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) };
    }
    return out;
  }
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) { num += ((xs[i] ?? 0) - mx) * ((ys[i] ?? 0) - my); den += ((xs[i] ?? 0) - mx) ** 2; }
  return den === 0 ? 0 : num / den;
}

function summarise(samples: readonly MemorySample[], pick: (m: MemorySample) => number) {
  const end = samples.at(-1)?.atS ?? 0;
  const mean = (xs: readonly MemorySample[]) => (xs.length ? xs.reduce((a, m) => a + pick(m), 0) / xs.length : 0);
  return {
    firstMinuteMiB: round(mean(samples.filter((m) => m.atS <= 60))),
    lastMinuteMiB: round(mean(samples.filter((m) => m.atS >= end - 60))),
    slopeMiBPerMin: round(slope(samples.map((m) => m.atS / 60), samples.map(pick)), 2),
  };
}

/** The route template of a path, for per-route figures (ids folded). */
const routeOf = (method: string, path: string) => `${method} ${path.replace(/\?.*$/, '').replace(/\/(jobs|pipelines)\/[^/]+/, '/$1/{id}')}`;

export async function runLoad(lab: LabProcess, opts: LoadOptions): Promise<LoadReport> {
  const log = opts.log ?? (() => {});
  const base = new URL(lab.baseUrl);
  const byKind = new Recorder();
  const byRoute = new Recorder();
  const thinkMs = opts.thinkMs ?? 2000;
  const jobEveryMs = (opts.jobEverySeconds ?? 600) * 1000;

  // Accounts, created through the repository layer (as `npm run lab -- user add` does).
  const control = await openDatabase<ControlSchema>(lab.cfg, 'control', { max: 2 });
  const password = 'load-analyst-password-1';
  const run = Date.now().toString(36);
  const users: string[] = [];
  try {
    for (let i = 0; i < opts.sessions; i++) {
      const username = `load.${run}.${i}`;
      await createUser(control, { username, displayName: `load ${i}`, role: 'analyst', password });
      users.push(username);
    }
  } finally {
    await control.close();
  }

  const call = (agent: Agent, cookie: string, csrf: string, method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<Res> =>
    new Promise((resolve) => {
      const req = request({
        host: base.hostname, port: base.port, method, path, agent, timeout: timeoutMs,
        headers: { ...(cookie ? { cookie } : {}), ...(method === 'POST' ? { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) } : {}), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, body: '' }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ status: 0, body: '' }));
      req.end(body);
    });

  let stopAt = 0;
  const jobs: { id: string; followed: Promise<void> }[] = [];
  // Closed after the settle time: a job's follower (SSE, then its result) may outlive its session's clicks.
  const agents: Agent[] = [];
  const started = performance.now();

  const session = async (i: number) => {
    const username = users[i] ?? '';
    // 127.0.0.2 … 127.0.0.254: one client address per person.
    const localAddress = `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`;
    const agent = new Agent({ keepAlive: true, maxSockets: 4, localAddress });
    // Event streams on connections of their own: a stream holds its connection until the job ends,
    // and must not starve the session's clicks (a browser tab following one job keeps its other
    // connections for the rest).
    const streams = new Agent({ keepAlive: false, localAddress });
    agents.push(agent, streams);
    const timed = async (kind: Kind, method: 'GET' | 'POST', path: string, body?: string, cookie = '', csrf = ''): Promise<Res> => {
      const t0 = performance.now();
      const r = await call(agent, cookie, csrf, method, path, body);
      const ms = performance.now() - t0;
      byKind.add(kind, ms, r.status);
      byRoute.add(routeOf(method, path), ms, r.status);
      if (r.status === 0 || r.status >= 500) log(`${method} ${path} → ${r.status} ${r.body.slice(0, 200)}`);
      return r;
    };
    // Sign in (spread over the first seconds, as people arrive).
    await sleep(Math.random() * Math.min(5000, opts.seconds * 200));
    const login = await new Promise<{ cookie: string; csrf: string; status: number }>((resolve) => {
      const t0 = performance.now();
      const req = request({ host: base.hostname, port: base.port, method: 'POST', path: '/api/auth/login', agent, timeout: 30_000, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - t0;
          byKind.add('login', ms, res.statusCode ?? 0);
          byRoute.add('POST /api/auth/login', ms, res.statusCode ?? 0);
          const cookie = (res.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
          let csrf = '';
          try { csrf = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { csrfToken?: string }).csrfToken ?? ''; } catch { /* not JSON */ }
          resolve({ cookie, csrf, status: res.statusCode ?? 0 });
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => { byKind.add('login', 0, 0); resolve({ cookie: '', csrf: '', status: 0 }); });
      req.end(JSON.stringify({ username, password }));
    });
    if (login.status !== 200) { log(`login of ${username}: ${login.status}`); return; }
    const { cookie, csrf } = login;
    const get = (path: string) => timed('read', 'GET', path, undefined, cookie);
    const post = (kind: Kind, path: string, body?: string) => timed(kind, 'POST', path, body, cookie, csrf);

    let pipelineId: string | undefined;
    const myJobs: string[] = [];
    // Submissions are a Poisson process per session (the first one too).
    let nextJobAt = performance.now() + -Math.log(1 - Math.random()) * jobEveryMs;
    const clicks = [
      () => get('/api/auth/me'),
      () => get('/api/catalog'),
      () => get('/api/operators'),
      () => get('/api/pipelines'),
      () => get('/api/jobs'),
      () => (pipelineId ? get(`/api/pipelines/${pipelineId}`) : get('/api/catalog/geography')),
      () => { const j = myJobs.at(-1); return j ? get(`/api/jobs/${j}`) : get('/api/jobs'); },
      () => { const j = myJobs.at(-1); return j ? get(`/api/jobs/${j}/result`) : get('/api/pipelines'); },
      async () => { // save (a new version of) the pipeline
        const r = await post('write', '/api/pipelines', S1.replace('"name": "', `"name": "${username} `));
        if (r.status === 201) pipelineId = (JSON.parse(r.body) as { id: string }).id;
        return r;
      },
    ];
    while (performance.now() < stopAt) {
      if (performance.now() >= nextJobAt) {
        nextJobAt = performance.now() + -Math.log(1 - Math.random()) * jobEveryMs;
        if (!pipelineId) {
          const saved = await post('write', '/api/pipelines', S1);
          if (saved.status === 201) pipelineId = (JSON.parse(saved.body) as { id: string }).id;
        }
        if (pipelineId) {
          const r = await post('submit', `/api/pipelines/${pipelineId}/runs`);
          if (r.status === 202) {
            const id = (JSON.parse(r.body) as { jobId: string }).jobId;
            myJobs.push(id);
            // Follow its progress as the browser does (SSE until the job ends), then read the result.
            const followed = (async () => {
              const t0 = performance.now();
              const ev = await call(streams, cookie, '', 'GET', `/api/jobs/${id}/events`, undefined, { accept: 'text/event-stream' }, 11 * 60_000);
              byKind.add('sse', performance.now() - t0, ev.status);
              if (ev.status !== 200) log(`SSE of ${id}: ${ev.status}`);
              await get(`/api/jobs/${id}/result`);
            })();
            jobs.push({ id, followed });
          }
        }
      } else {
        const pick = clicks[Math.floor(Math.random() * clicks.length)];
        if (pick) await pick();
      }
      await sleep(thinkMs * (0.5 + Math.random()));
    }
  };

  // Memory of the server process: RSS from /proc, heap from its own metrics.
  const memory: MemorySample[] = [];
  const metricsAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sampleMemory = async () => {
    const pid = lab.pid();
    if (pid === undefined) return;
    let rssMiB = Number.NaN;
    try { rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024; } catch { /* gone */ }
    const m = await call(metricsAgent, '', '', 'GET', '/api/metrics', undefined, { authorization: `Bearer ${opts.metricsToken}` });
    const heap = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(m.body)?.[1] ?? Number.NaN) / 2 ** 20;
    memory.push({ atS: round((performance.now() - started) / 1000), rssMiB: round(rssMiB), heapMiB: round(heap) });
  };

  stopAt = performance.now() + opts.seconds * 1000;
  await sampleMemory();
  const sampler = setInterval(() => { void sampleMemory(); }, Math.max(1000, Math.min(5000, opts.seconds * 100)));
  const progress = setInterval(() => log(`${Math.round((performance.now() - started) / 1000)} s: ${jobs.length} jobs submitted`), 30_000);
  await Promise.all(Array.from({ length: opts.sessions }, (_, i) => session(i)));
  const loadSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  clearInterval(progress);
  await sampleMemory();

  // Let the submitted jobs finish (their SSE followers end with them), bounded.
  const settle = sleep((opts.settleSeconds ?? 180) * 1000).then(() => 'timeout' as const);
  await Promise.race([Promise.all(jobs.map((j) => j.followed)), settle]);
  metricsAgent.destroy();
  for (const a of agents) a.destroy();

  // Final states, read from the control database (no session needed).
  const db = await openDatabase<ControlSchema>(lab.cfg, 'control', { max: 2 });
  let succeeded = 0;
  let failed = 0;
  let open = 0;
  try {
    const ids = jobs.map((j) => j.id);
    const rows = ids.length ? await db.kysely.selectFrom('job').select(['id', 'state', 'error']).where('id', 'in', ids).execute() : [];
    for (const r of rows) {
      if (r.state === 'succeeded') succeeded += 1;
      else if (r.state === 'queued' || r.state === 'running') open += 1;
      else { failed += 1; log(`job ${r.id}: ${r.state} ${JSON.stringify(r.error)}`); }
    }
  } finally {
    await db.close();
  }

  const kinds = byKind.stats();
  const requests = Object.values(kinds).reduce((a, s) => a + s.count, 0);
  const report: LoadReport = {
    sessions: opts.sessions,
    seconds: opts.seconds,
    requests,
    throughputPerS: round(requests / loadSeconds),
    byKind: kinds,
    byRoute: byRoute.stats(),
    jobsSubmitted: jobs.length,
    jobsSucceeded: succeeded,
    jobsNotFinished: open,
    jobsFailed: failed,
    errors5xx: Object.values(kinds).reduce((a, s) => a + s.errors5xx, 0),
    failedRequests: Object.values(kinds).reduce((a, s) => a + s.failed, 0),
    memory,
    rss: summarise(memory.filter((m) => Number.isFinite(m.rssMiB)), (m) => m.rssMiB),
    heap: summarise(memory.filter((m) => Number.isFinite(m.heapMiB)), (m) => m.heapMiB),
  };
  return report;
}
