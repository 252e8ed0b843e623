import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { roleUrl } from '../../sandbox/store/topology.ts';
import { TEST_REDIS_URL } from '../support/test-env.ts';
import { signIn } from '../support/api-client.ts';
import { createLabProcess, type LabProcess } from '../faults/lab-process.ts';
import { runLoad } from '../load/load-driver.ts';

const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const S1 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as unknown;

/**
 * Load benchmark (issue 9): N analyst sessions for S seconds against the lab as deployed —
 * `server/main.ts start` in Postgres + Redis mode (a throwaway prefix on the local Postgres and
 * Redis, a seeded city, six worker processes) — each signed in with an account of its own, saving
 * pipelines, submitting S1 jobs, following them over SSE and reading jobs, results and the catalog
 * (tests/load/load-driver.ts). Prints per-kind and per-route latency, errors, the server's RSS and
 * heap over the run, and last one JSON line. Loopback only; everything is dropped at the end.
 *
 *   npm run bench -- load [--sessions 100] [--seconds 300] [--persons 10000] [--job-every 600] [--think-ms 2000] [--log-file F]
 *
 * Scale-out (`--scale-out`): a batch of `--jobs` S1 jobs submitted at once, timed from the first
 * submission to the last success, with one registry worker process and then with two (a second
 * `server/main.ts worker --domain registry` on the same queue), alternately `--repeat` times each.
 *
 *   npm run bench -- load --scale-out [--persons 100000] [--jobs 12] [--repeat 2]
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sessions: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '300' },
      persons: { type: 'string', default: '10000' },
      'job-every': { type: 'string', default: '600' },
      'think-ms': { type: 'string', default: '2000' },
      'scale-out': { type: 'boolean', default: false },
      jobs: { type: 'string', default: '12' },
      repeat: { type: 'string', default: '2' },
      'log-file': { type: 'string' },
    },
  });
  if (values['scale-out']) {
    await scaleOut(Number(values.persons === '10000' ? '100000' : values.persons), Number(values.jobs), Number(values.repeat));
    return;
  }
  const sessions = Number(values.sessions);
  const seconds = Number(values.seconds);
  const persons = Number(values.persons);
  const jobEverySeconds = Number(values['job-every']);
  const thinkMs = Number(values['think-ms']);
  for (const [k, v] of Object.entries({ sessions, seconds, persons, jobEverySeconds, thinkMs })) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${k}: a positive number, please`);
  }
  if (sessions > 1000 || seconds > 3600) throw new Error('bounded: at most 1000 sessions and 3600 seconds');
  const token = `bench-load-${Date.now()}`;
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const lab = await createLabProcess({ persons, env: { LAB_METRICS_TOKEN: token, LAB_LOG_LEVEL: 'warn' }, keepLogs: false, ...(values['log-file'] ? { logFile: values['log-file'] } : {}) });
  try {
    say(`starting the lab (Postgres + Redis, ${persons} persons, six worker processes)…`);
    await lab.start();
    say(`load: ${sessions} sessions × ${seconds} s (job every ~${jobEverySeconds} s per session, think ~${thinkMs} ms); load average before ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    const report = await runLoad(lab, { sessions, seconds, jobEverySeconds, thinkMs, metricsToken: token, log: say });
    if (lab.pid() === undefined) say(`THE SERVER PROCESS ENDED DURING THE RUN: ${JSON.stringify(await lab.exited())}`);
    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(`\n${report.requests} requests in ${seconds} s: ${report.throughputPerS} req/s; 5xx ${report.errors5xx}; no answer ${report.failedRequests}`);
    out(`jobs: ${report.jobsSubmitted} submitted, ${report.jobsSucceeded} succeeded, ${report.jobsFailed} failed, ${report.jobsNotFinished} not finished`);
    out('\nkind      count    p50 ms   p95 ms   p99 ms   max ms   4xx  5xx');
    const row = (k: string, s: { count: number; p50: number; p95: number; p99: number; max: number; errors4xx: number; errors5xx: number }) =>
      out(`${k.padEnd(9)} ${String(s.count).padStart(6)} ${String(s.p50).padStart(8)} ${String(s.p95).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)} ${String(s.errors4xx).padStart(5)} ${String(s.errors5xx).padStart(4)}`);
    for (const [k, s] of Object.entries(report.byKind)) row(k, s);
    out('\nroute                                      count    p50 ms   p95 ms   p99 ms   max ms   4xx  5xx');
    for (const [k, s] of Object.entries(report.byRoute)) out(`${k.padEnd(42)} ${String(s.count).padStart(5)} ${String(s.p50).padStart(8)} ${String(s.p95).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)} ${String(s.errors4xx).padStart(5)} ${String(s.errors5xx).padStart(4)}`);
    out(`\nserver RSS MiB: first minute ${report.rss.firstMinuteMiB}, last minute ${report.rss.lastMinuteMiB}, slope ${report.rss.slopeMiBPerMin}/min; heap used MiB: ${report.heap.firstMinuteMiB} → ${report.heap.lastMinuteMiB}, slope ${report.heap.slopeMiBPerMin}/min (${report.memory.length} samples)`);
    out(`load average after ${loadavg().map((x) => x.toFixed(1)).join(' ')} (a shared machine: other work ran at the same time)`);
    const read = report.byKind['read'];
    out(JSON.stringify({
      bench: 'load', sessions, seconds, persons, requests: report.requests, throughputPerS: report.throughputPerS,
      p50ReadMs: read?.p50 ?? null, p95ReadMs: read?.p95 ?? null, p99ReadMs: read?.p99 ?? null,
      p95WriteMs: report.byKind['write']?.p95 ?? null, p95SubmitMs: report.byKind['submit']?.p95 ?? null, p95LoginMs: report.byKind['login']?.p95 ?? null,
      errors5xx: report.errors5xx, failedRequests: report.failedRequests,
      jobsSubmitted: report.jobsSubmitted, jobsSucceeded: report.jobsSucceeded, jobsFailed: report.jobsFailed, jobsNotFinished: report.jobsNotFinished,
      rssFirstMinuteMiB: report.rss.firstMinuteMiB, rssLastMinuteMiB: report.rss.lastMinuteMiB, rssSlopeMiBPerMin: report.rss.slopeMiBPerMin,
      heapFirstMinuteMiB: report.heap.firstMinuteMiB, heapLastMinuteMiB: report.heap.lastMinuteMiB, heapSlopeMiBPerMin: report.heap.slopeMiBPerMin,
      loadAvg1: Number(loadavg()[0]?.toFixed(1)),
    }));
  } finally {
    await lab.drop();
  }
}

/** Wall time of a batch of S1 jobs with 1 and with 2 registry workers (see the header). */
async function scaleOut(persons: number, jobs: number, repeat: number): Promise<void> {
  if (!(persons >= 10_000 && jobs >= 1 && jobs <= 200 && repeat >= 1 && repeat <= 10)) throw new Error('--persons ≥ 10000, --jobs 1–200, --repeat 1–10');
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const lab = await createLabProcess({ persons, env: { LAB_LOG_LEVEL: 'warn' }, keepLogs: false });
  try {
    say(`starting the lab (${persons} persons)…`);
    await lab.start();
    const api = await signIn(lab.baseUrl, 'analyst', lab.password);
    const saved = await api.post('/api/pipelines', S1);
    const pipelineId = (await saved.json() as { id: string }).id;
    const batch = async (): Promise<number> => {
      const t0 = performance.now();
      const ids: string[] = [];
      for (let i = 0; i < jobs; i++) {
        const r = await api.post(`/api/pipelines/${pipelineId}/runs`);
        if (r.status !== 202) throw new Error(`run: ${r.status} ${await r.text()}`);
        ids.push((await r.json() as { jobId: string }).jobId);
      }
      for (const id of ids) {
        for (;;) {
          const j = await (await api.get(`/api/jobs/${id}`)).json() as { state: string };
          if (j.state === 'succeeded') break;
          if (j.state !== 'queued' && j.state !== 'running') throw new Error(`job ${id}: ${j.state}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return (performance.now() - t0) / 1000;
    };
    await batch(); // warm-up (plans cached, pages in memory)
    const one: number[] = [];
    const two: number[] = [];
    for (let k = 0; k < repeat; k++) {
      one.push(await batch());
      say(`1 worker: ${one.at(-1)?.toFixed(2)} s`);
      const extra = await startExtraWorker(lab);
      try {
        two.push(await batch());
        say(`2 workers: ${two.at(-1)?.toFixed(2)} s`);
      } finally {
        await extra.stop();
      }
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const mid = Math.floor(s.length / 2);
      return s.length % 2 ? s[mid] ?? 0 : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
    };
    const m1 = median(one);
    const m2 = median(two);
    process.stdout.write(`\n${jobs} S1 jobs on ${persons} persons: 1 worker ${one.map((x) => x.toFixed(2)).join(', ')} s; 2 workers ${two.map((x) => x.toFixed(2)).join(', ')} s; speed-up ${(m1 / m2).toFixed(2)}× (medians)\n`);
    process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} shared cores\n`);
    process.stdout.write(`${JSON.stringify({ bench: 'load-scale-out', persons, jobs, repeat, oneWorkerS: one.map((x) => Number(x.toFixed(3))), twoWorkersS: two.map((x) => Number(x.toFixed(3))), speedup: Number((m1 / m2).toFixed(3)), loadAvg1: Number(loadavg()[0]?.toFixed(1)) })}\n`);
  } finally {
    await lab.drop();
  }
}

/** A second registry worker process on the lab's queue (only the registry's own URL), ready when its heartbeat is counted. */
async function startExtraWorker(lab: LabProcess): Promise<{ stop(): Promise<void> }> {
  const c = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--domain', 'registry'], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], LAB_DOMAIN_DATABASE_URL: roleUrl(lab.cfg, 'registry'), REDIS_URL: TEST_REDIS_URL, LAB_DB_PREFIX: lab.prefix, LAB_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  const until = Date.now() + 120_000;
  for (;;) {
    const ready = await fetch(`${lab.baseUrl}/api/health`).then(async (r) => {
      const h = await r.json() as { checks: Record<string, { ok: boolean }> };
      return h.checks['domain:registry']?.ok === true;
    }, () => false);
    // Two heartbeats of the registry in Redis: ask the queue through a throwaway connection.
    const q = new BullQueue(TEST_REDIS_URL, lab.prefix);
    const beats = await q.heartbeats('registry').finally(() => q.close());
    if (ready && beats.length >= 2) break;
    if (c.exitCode !== null || Date.now() > until) throw new Error('the second registry worker did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    async stop() {
      c.kill('SIGTERM');
      await exited;
      // Its heartbeat lives on for up to 15 s; nothing depends on it (the next batch runs on whoever takes stages).
    },
  };
}
