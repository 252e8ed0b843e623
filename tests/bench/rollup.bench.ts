import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CompiledQuery } from 'kysely';
import { DEFAULT_STAFF_PARAMS } from '../../sandbox/disclosure/guard-params.ts';
import type { ReleasedTable } from '../../sandbox/disclosure/released-table.ts';
import type { RawRow } from '../../sandbox/disclosure/staff-guard.ts';
import { DOMAIN_IDS } from '../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../sandbox/domains/generator/index.ts';
import { validatePipeline } from '../../sandbox/pipeline/validate.ts';
import { planPipeline, type DomainStage } from '../../sandbox/plan/planner.ts';
import { BullQueue } from '../../sandbox/runtime/queue/bullmq.queue.ts';
import { snapshotDate } from '../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { readConfig } from '../../sandbox/store/lab-config.ts';
import { roleUrl } from '../../sandbox/store/topology.ts';
import { openControl, openDomains, seedLab } from '../../server/lab/lab-services.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { startLab, type RunningLab } from '../../server/lab/start.ts';
import { signIn, type ApiClient } from '../support/api-client.ts';
import type { GuardDone, GuardStarted, GuardTask } from './rollup-guard.worker.ts';

/**
 * S1 roll-up benchmark: the lab's job wall time (submit → released result, through the HTTP API,
 * BullMQ and the registry domain worker process, exactly as deployed) against the equivalent
 * hand-written GROUPING SETS query run directly on the registry database, alternately, in the
 * same run. The disclosure guard is timed on its own (same code, rows and release ledger as the
 * worker) at the requested depth and at community depth. The last line is JSON.
 *
 *   npm run bench -- rollup [--persons 1000000] [--seed bench] [--repeat 3] [--depth grid|community]
 *                           [--guard-timeout 300] [--job-timeout 900]
 *
 * Uses DATABASE_URL / REDIS_URL (default: the local Postgres and Redis) under its own prefix
 * `benchrollup` (databases `benchrollup_*`, Redis keys `benchrollup:*`, secrets in
 * .lab-data/bench-rollup). The city stays between runs: seedCity leaves a complete load of the
 * same seed and size alone, so only the first run (or another --persons/--seed) seeds. The
 * registry's release ledger is emptied at the start of every run, so runs start alike.
 */
const PREFIX = 'benchrollup';
const S1_FILE = new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url);
/** Poll interval of the job state: short against any job, so it adds at most this much. */
const POLL_MS = 50;
const DEPTHS = ['grid', 'community'] as const;
type Depth = (typeof DEPTHS)[number];
const GEO_COLUMNS = ['district_code', 'street_code', 'community_code', 'grid_code'] as const;

interface PipelineDoc { name: string; nodes: { id: string; op: string; params?: Record<string, unknown> }[] }
interface JobBody { state: string; error: unknown; finishedAt: string | null }
interface ResultBody { tables: { stageId: string; domain: string; table: ReleasedTable }[] }

interface GuardRun { started: GuardStarted; done: GuardDone | 'timeout' }

interface LabRun {
  seconds: number;
  /** How many times BullMQ handed the stage to a worker (1 unless retried or declared stalled). */
  deliveries: number;
  table: ReleasedTable;
  resultBytes: number;
  /** Milliseconds of each step, from the client's, BullMQ's and the control database's clocks (one machine). */
  phases: Record<LabPhase, number>;
}
const LAB_PHASES = ['save', 'run request', 'queue wait', 'worker', 'deliver + record', 'poll notice', 'GET result'] as const;
type LabPhase = (typeof LAB_PHASES)[number];

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      persons: { type: 'string', default: '1000000' }, seed: { type: 'string', default: 'bench' }, repeat: { type: 'string', default: '3' },
      depth: { type: 'string', default: 'grid' }, 'guard-timeout': { type: 'string', default: '300' }, 'job-timeout': { type: 'string', default: '900' },
    },
  });
  const persons = Number(values.persons);
  const seed = values.seed;
  const repeat = Number(values.repeat);
  const depth = values.depth as Depth;
  const guardLimitMs = Number(values['guard-timeout']) * 1000;
  const jobLimitMs = Number(values['job-timeout']) * 1000;
  if (!DEPTHS.includes(depth)) throw new Error(`--depth must be ${DEPTHS.join(' or ')}`);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a whole number ≥ 1');
  if (!(guardLimitMs > 0) || !(jobLimitMs > 0)) throw new Error('time limits must be positive numbers of seconds');
  const log = (s: string) => process.stdout.write(`${s}\n`);

  const cfg = readConfig({
    DATABASE_URL: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    LAB_DB_PREFIX: PREFIX, LAB_DATA_DIR: resolve('.lab-data/bench-rollup'), PORT: '0',
    LAB_DEMO_PASSWORD: 'bench-rollup-demo', LAB_LOG_LEVEL: 'warn',
  });
  const logger = createLogger('warn');
  const load = loadSampler();
  log(`S1 roll-up benchmark: ${persons} persons, seed "${seed}", depth ${depth}, ${repeat} runs each; code ${codeVersion()}`);

  // 1. The city (not measured): provision, seed unless this exact city is already loaded.
  const control = await openControl(cfg, logger);
  const domains = await openDomains(cfg);
  const registry = domains.registry;
  let lab: RunningLab | undefined;
  let stats: Queue | undefined;
  const statsRedis = new Redis(cfg.redisUrl ?? '', { maxRetriesPerRequest: null, lazyConnect: true });
  const unused: { close(): Promise<void> }[] = [control, ...DOMAIN_IDS.filter((d) => d !== 'registry').map((d) => domains[d])];
  try {
    let seeded = false;
    const s0 = performance.now();
    await seedCity({ persons, seed, domains, onProgress: (p) => { if (p.phase === 'generate') seeded = true; } });
    await seedLab(control, domains, { persons, seed }, logger); // records the city in the control DB; the load above is complete, so it loads nothing
    const seedSeconds = (performance.now() - s0) / 1000;
    log(seeded ? `seeded the city in ${seedSeconds.toFixed(1)} s (not part of the figures)` : `city already seeded (checked in ${seedSeconds.toFixed(1)} s)`);
    for (const db of unused.splice(0)) await db.close();

    const doc = s1At(depth);
    const stage = domainStage(doc);
    const asOf = await snapshotDate(registry);
    const url = roleUrl(cfg, stage.domain);

    // 2. Every invocation starts from an empty release ledger, as after seeding; the lab runs below
    //    add to it (an analyst running S1 again), and the guard checks every table against it.
    const earlier = await ledgerCells(registry);
    await registry.exec('TRUNCATE lab_release_cell, lab_release');
    log(`release ledger emptied (${earlier} cells from earlier runs)`);

    // 3. The guard alone, on the worker's own rows (query and ledger as executeStage runs them).
    const guardTask = (d: Depth): GuardTask => ({ url, domain: stage.domain, stageId: stage.id, pipeline: s1At(d), guard: DEFAULT_STAFF_PARAMS });
    const guards = new Map<Depth, GuardRun>();
    guards.set(depth, await timeGuard(guardTask(depth), guardLimitMs));
    if (depth !== 'community') guards.set('community', await timeGuard(guardTask('community'), guardLimitMs));
    log(`guard alone (empty ledger): ${[...guards].map(([d, g]) => `${d} ${guardText(g, guardLimitMs)}`).join('; ')}`);
    if (guards.get(depth)?.done === 'timeout') log(`warning: the worker runs the same guard, so each lab job takes more than ${guardLimitMs / 1000} s`);

    // 4. The lab, as deployed: coordinator + BullMQ + one worker process per domain holding only its own credentials.
    lab = await startLab(cfg, logger, { seedPersons: persons, seedName: seed, banner: false });
    await waitHealthy(lab.url);
    const api = await signIn(lab.url, 'analyst', 'bench-rollup-demo');
    stats = new Queue(stage.domain, { connection: statsRedis, prefix: `${cfg.dbPrefix}:domain` });

    // 5. Alternate: lab job, hand-written SQL; `repeat` times.
    const handSql = handWrittenSql(depth);
    const labRuns: LabRun[] = [];
    const sqlRuns: { seconds: number; rows: RawRow[] }[] = [];
    let labTimedOut = false;
    for (let i = 0; i < repeat; i++) {
      if (!labTimedOut) {
        const r = await labRun(api, stats, doc, stage.id, jobLimitMs);
        if (r === 'timeout') labTimedOut = true;
        else labRuns.push(r);
      }
      const q0 = performance.now();
      const res = await registry.kysely.executeQuery<RawRow>(CompiledQuery.raw(handSql, [asOf]));
      sqlRuns.push({ seconds: (performance.now() - q0) / 1000, rows: [...res.rows] });
      const lr = labRuns[i];
      log(`run ${i + 1}: lab ${lr ? `${lr.seconds.toFixed(2)} s` : `> ${jobLimitMs / 1000} s (stopped waiting)`}, sql ${(sqlRuns[i]?.seconds ?? 0).toFixed(2)} s`);
    }
    await lab.stop();
    lab = undefined;

    // 6. The community guard again, now that the ledger holds the lab's releases.
    const ledgerAfter = await ledgerCells(registry);
    const guardAfter = labRuns.length ? await timeGuard(guardTask('community'), guardLimitMs) : undefined;

    // 7. Like with like: cells (pre-guard), grouping sets and grand total.
    const sqlRows = sqlRuns[0]?.rows ?? [];
    const allBits = (1 << stage.table.keys.length) - 1;
    const sqlTotal = Number(sqlRows.find((r) => Number(r['g']) === allBits)?.['persons']);
    const sqlSets = new Set(sqlRows.map((r) => Number(r['g'])));
    const pre = guards.get(depth)?.started;
    const released = labRuns[0]?.table;
    const releasedTotal = released?.rows.find((r) => r.grouping === allBits)?.values[0] ?? null;
    const problems: string[] = [];
    if (sqlSets.size !== stage.table.groupingSets.length) problems.push(`the hand-written query has ${sqlSets.size} grouping sets, the plan ${stage.table.groupingSets.length}`);
    if (pre) {
      if (pre.preGuardCells !== sqlRows.length) problems.push(`cells differ: sql ${sqlRows.length}, lab pre-guard ${pre.preGuardCells}`);
      if (pre.grandTotal !== sqlTotal) problems.push(`grand totals differ: sql ${sqlTotal}, lab pre-guard ${pre.grandTotal}`);
      if (pre.groupings.length !== sqlSets.size || pre.groupings.some((g) => !sqlSets.has(g))) problems.push('grouping sets differ');
    }
    // A released table lists its released cells and the suppressed cells that hold one of them
    // (docs/disclosure.md, "listed cells"): never more cells than the query has, and the same
    // number on every run of the same population.
    for (const r of labRuns) {
      if (r.table.guard.cells > sqlRows.length) problems.push(`the lab job lists ${r.table.guard.cells} cells, more than the ${sqlRows.length} the query has`);
      if (r.table.guard.cells !== labRuns[0]?.table.guard.cells) problems.push(`runs list different numbers of cells: ${labRuns.map((x) => x.table.guard.cells).join(', ')}`);
    }
    if (sqlRuns.some((r) => r.rows.length !== sqlRows.length)) problems.push('the hand-written query returned different row counts across runs');
    if (releasedTotal !== null && Math.abs(releasedTotal - sqlTotal) > DEFAULT_STAFF_PARAMS.rounding / 2 + (DEFAULT_STAFF_PARAMS.cellKeyNoise?.d ?? 0)) problems.push(`released grand total ${releasedTotal} is not the true ${sqlTotal} rounded`);
    const reruns = labRuns.filter((r) => r.deliveries > 1).length;
    if (reruns) problems.push(`${reruns} lab stage(s) ran more than once (BullMQ retry or stall)`);

    // 8. Figures.
    const labSeconds = labRuns.length === repeat ? median(labRuns.map((r) => r.seconds)) : null;
    const sqlSeconds = median(sqlRuns.map((r) => r.seconds));
    const ratio = labSeconds === null ? null : labSeconds / sqlSeconds;
    const guardSec = (g: GuardRun | undefined) => (g === undefined || g.done === 'timeout' ? null : g.done.seconds);
    const guardWarm = (g: GuardRun | undefined) => (g === undefined || g.done === 'timeout' ? null : g.done.warmSeconds);
    log('');
    log(`S1 ${depth} roll-up, ${persons} persons: ${stage.table.groupingSets.length} grouping sets, ${sqlRows.length} cells, grand total ${sqlTotal}`);
    log(table([
      ['', ...sqlRuns.map((_, i) => `run ${i + 1}`), 'median'],
      ['lab job, submit → released result (s)', ...sqlRuns.map((_, i) => labRuns[i]?.seconds.toFixed(2) ?? '–'), labSeconds === null ? '–' : labSeconds.toFixed(2)],
      ['hand-written GROUPING SETS on registry (s)', ...sqlRuns.map((r) => r.seconds.toFixed(2)), sqlSeconds.toFixed(2)],
    ]));
    log(`ratio lab / sql: ${ratio === null ? '–' : ratio.toFixed(2)} (target ≤ 1.3)`);
    log(`checks: ${problems.length ? `FAILED — ${problems.join('; ')}` : `same ${sqlRows.length} cells, same ${sqlSets.size} grouping sets, same grand total ${sqlTotal} (released ${releasedTotal ?? '–'})`}`);
    if (labRuns.length) {
      log(`where the lab's time goes (median ms; released table ${(median(labRuns.map((r) => r.resultBytes)) / 2 ** 20).toFixed(1)} MiB of JSON):`);
      log(table([[...LAB_PHASES], LAB_PHASES.map((p) => String(Math.round(median(labRuns.map((r) => r.phases[p])))))]));
      if (pre) log(`  inside "worker", measured alone here: query with contributor fingerprints ${pre.querySeconds.toFixed(2)} s, ledger read ${pre.ledgerSeconds.toFixed(2)} s, guard ${guardText(guards.get(depth), guardLimitMs)}; the rest is the ledger write and the result's JSON`);
    }
    log(`guard alone: ${[...guards].map(([d, g]) => `${d} ${guardText(g, guardLimitMs)}`).join('; ')} — empty ledger (target ≤ 2 s at community level for 10 M)`);
    if (guardAfter) log(`community guard after the lab's ${labRuns.length} releases (ledger ${ledgerAfter} cells): ${guardText(guardAfter, guardLimitMs)}`);
    const l = load.stop();
    log(`machine: load average ${l.start.map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) at start, ${l.end.map((x) => x.toFixed(1)).join(' / ')} at end; 1-min load during the run ${l.min.toFixed(1)}–${l.max.toFixed(1)}; ${l.cores} cores`);
    log(JSON.stringify({
      persons, labSeconds: round(labSeconds), sqlSeconds: round(sqlSeconds), ratio: round(ratio),
      guardSeconds: round(guardSec(guards.get('community'))), gridGuardSeconds: round(guardSec(guards.get('grid'))),
      guardWarmSeconds: round(guardWarm(guards.get('community'))), guardAfterReleasesSeconds: round(guardSec(guardAfter)), guardTimeoutSeconds: guardLimitMs / 1000,
      depth, cells: sqlRows.length, groupingSets: sqlSets.size, repeat,
      labRuns: labRuns.map((r) => round(r.seconds)), sqlRuns: sqlRuns.map((r) => round(r.seconds)),
      labQuerySeconds: round(pre?.querySeconds ?? null), resultMiB: round(labRuns.length ? median(labRuns.map((r) => r.resultBytes)) / 2 ** 20 : null),
      phasesMs: labRuns.length ? Object.fromEntries(LAB_PHASES.map((p) => [p, Math.round(median(labRuns.map((r) => r.phases[p])))])) : null,
      ledgerCells: ledgerAfter, seeded, seedSeconds: round(seedSeconds), load: [round(l.min), round(l.max)], checksOk: problems.length === 0,
    }));
    if (problems.length) process.exitCode = 1;
  } finally {
    for (const db of unused) await db.close();
    await lab?.stop();
    await stats?.close();
    statsRedis.disconnect();
    await registry.close();
    const q = new BullQueue(cfg.redisUrl ?? '', cfg.dbPrefix);
    await q.obliterateAll(); // the bench's own Redis keys: finished stages keep their results for an hour
    await q.close();
  }
}

async function ledgerCells(db: Database): Promise<number> {
  const r = await db.kysely.executeQuery<{ n: number }>(CompiledQuery.raw('SELECT count(*)::int AS n FROM lab_release_cell'));
  return r.rows[0]?.n ?? 0;
}

/** The S1 example pipeline with the roll-up's depth set. */
function s1At(depth: Depth): PipelineDoc {
  const doc = JSON.parse(readFileSync(S1_FILE, 'utf8')) as PipelineDoc;
  const node = doc.nodes.find((n) => n.op.startsWith('geo-rollup@'));
  if (!node) throw new Error('the S1 example has no geo-rollup node');
  node.params = { ...node.params, depth };
  return doc;
}

function domainStage(doc: PipelineDoc): DomainStage {
  const v = validatePipeline(doc);
  if (!v.ok) throw v.errors[0] ?? new Error('S1 is invalid');
  const stage = planPipeline(v.pipeline).stages.find((s): s is DomainStage => s.kind === 'domain');
  if (!stage) throw new Error('S1 has no domain stage');
  return stage;
}

/**
 * The equivalent query as a person would write it for the registry database: the geography
 * hierarchy with a subtotal at every level (ROLLUP) crossed with every margin of the other three
 * keys (CUBE) — the same grouping sets as the lab's plan (the bench checks that), all rows fetched.
 */
function handWrittenSql(depth: Depth): string {
  const geo = GEO_COLUMNS.slice(0, GEO_COLUMNS.indexOf(`${depth}_code`) + 1).join(', ');
  const keys = `${geo}, household_type, sex, age_band`;
  return `SELECT ${keys}, GROUPING(${keys}) AS g, count(*) AS persons
FROM (
  SELECT ${geo}, household_type, sex,
         CASE WHEN years < 0 THEN NULL WHEN years < 15 THEN '0-14' WHEN years < 25 THEN '15-24' WHEN years < 45 THEN '25-44'
              WHEN years < 60 THEN '45-59' WHEN years < 80 THEN '60-79' ELSE '80+' END AS age_band
  FROM (SELECT ${geo}, household_type, sex, date_part('year', age($1::date, birth_date)) AS years FROM person WHERE status = 'active') p
) b
GROUP BY ROLLUP (${geo}), CUBE (household_type, sex, age_band)`;
}

/**
 * One lab job as the analyst's browser runs it: save S1, run it, wait, fetch the released result.
 * Waits by polling GET /api/jobs/{id} every POLL_MS: the SSE route re-reads the job only every
 * 400 ms, which would add up to 0.4 s of notification delay that is not the lab's work.
 */
async function labRun(api: ApiClient, stats: Queue, doc: PipelineDoc, stageId: string, limitMs: number): Promise<LabRun | 'timeout'> {
  const t0 = performance.now();
  const w0 = Date.now();
  const saved = await api.post('/api/pipelines', doc);
  if (saved.status !== 201) throw new Error(`saving S1 failed: ${saved.status} ${await saved.text()}`);
  const { id } = await saved.json() as { id: string };
  const w1 = Date.now();
  const started = await api.post(`/api/pipelines/${id}/runs`);
  if (started.status !== 202) throw new Error(`running S1 failed: ${started.status} ${await started.text()}`);
  const { jobId } = await started.json() as { jobId: string };
  const w2 = Date.now();
  let job: JobBody;
  for (;;) {
    job = await (await api.get(`/api/jobs/${jobId}`)).json() as JobBody;
    if (job.state !== 'queued' && job.state !== 'running') break;
    if (performance.now() - t0 > limitMs) {
      await api.post(`/api/jobs/${jobId}/cancel`);
      return 'timeout';
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const w3 = Date.now();
  if (job.state !== 'succeeded') throw new Error(`the lab job ended ${job.state}: ${JSON.stringify(job.error)}`);
  const res = await api.get(`/api/jobs/${jobId}/result`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET result failed: ${res.status} ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as ResultBody;
  const seconds = (performance.now() - t0) / 1000;
  const w4 = Date.now();
  const table = body.tables[0]?.table;
  if (!table) throw new Error('the lab job released no table');
  const delivery = await stats.getJob(`${jobId}.${stageId}`);
  const recorded = job.finishedAt ? Date.parse(job.finishedAt) : NaN;
  const { timestamp = NaN, processedOn = NaN, finishedOn = NaN, attemptsStarted = 0 } = delivery ?? {};
  return {
    seconds, table, resultBytes: Buffer.byteLength(text), deliveries: attemptsStarted,
    phases: {
      save: w1 - w0, 'run request': w2 - w1, 'queue wait': processedOn - timestamp, worker: finishedOn - processedOn,
      'deliver + record': recorded - finishedOn, 'poll notice': w3 - recorded, 'GET result': w4 - w3,
    },
  };
}

/** Runs the stage and the guard in a thread of its own; stops it after `limitMs` of guard time. */
function timeGuard(task: GuardTask, limitMs: number): Promise<GuardRun> {
  return new Promise((resolveGuard, reject) => {
    const worker = new Worker(guardWorkerUrl(), { workerData: task });
    let timer: NodeJS.Timeout | undefined;
    let started: GuardStarted | undefined;
    let settled = false;
    const settle = (f: () => void) => { if (settled) return; settled = true; clearTimeout(timer); void worker.terminate(); f(); };
    worker.on('message', (m: GuardStarted | GuardDone) => {
      if (m.kind === 'started') {
        started = m;
        timer = setTimeout(() => settle(() => resolveGuard({ started: m, done: 'timeout' })), limitMs);
      } else if (started) {
        const s = started;
        settle(() => resolveGuard({ started: s, done: m }));
      }
    });
    worker.once('error', (e) => settle(() => reject(e)));
    worker.once('exit', (code) => settle(() => reject(new Error(`the guard thread exited (${code})`))));
  });
}

function guardText(g: GuardRun | undefined, limitMs: number): string {
  if (g === undefined) return 'not measured';
  if (g.done === 'timeout') return `exceeded the ${limitMs / 1000} s limit (stopped), ${g.started.preGuardCells} cells`;
  const warm = g.done.warmSeconds === null ? '' : `, ${g.done.warmSeconds.toFixed(2)} s on a second call`;
  return `${g.done.seconds.toFixed(2)} s (${g.done.cells} cells, ${g.done.suppressed} suppressed${warm})`;
}

/** Thread bootstrap: registers tsx's loader (no build step), then loads the guard module. */
function guardWorkerUrl(): URL {
  const target = new URL('./rollup-guard.worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`)}`);
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const body = await (await fetch(`${url}/api/health`)).json() as { status: string };
    if (body.status === 'ok') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the lab did not become healthy within 60 s');
}

/** The machine's load average: at start, at end, and the 1-minute figure sampled every 2 s. */
function loadSampler() {
  const start = loadavg();
  let min = start[0] ?? 0;
  let max = start[0] ?? 0;
  const timer = setInterval(() => { const x = loadavg()[0] ?? 0; min = Math.min(min, x); max = Math.max(max, x); }, 2000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const end = loadavg();
      return { start, end, min: Math.min(min, end[0] ?? min), max: Math.max(max, end[0] ?? max), cores: availableParallelism() };
    },
  };
}

function codeVersion(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'sandbox', 'server', 'operators'], { encoding: 'utf8' }).trim();
    return dirty ? `${rev} + uncommitted changes (${dirty.split('\n').length} files under sandbox/server/operators)` : rev;
  } catch {
    return 'unknown';
  }
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')).join('\n');
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] ?? NaN : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

function round(x: number | null): number | null {
  return x === null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100;
}
