import { serve, type ServerType } from '@hono/node-server';
import highsModule, { type LegacyHighs } from 'highs';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DOMAIN_IDS, type DomainId } from '../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../sandbox/domains/generator/index.ts';
import type { GroundTruth } from '../../sandbox/domains/generator/ground-truth.ts';
import type { ReleasedRow, ReleasedTable } from '../../sandbox/disclosure/released-table.ts';
import type { RawRow } from '../../sandbox/disclosure/staff-guard.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../sandbox/runtime/worker/domain-worker.ts';
import { runStageQuery, stageFor } from '../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { DEFAULT_STAFF_PARAMS } from '../../sandbox/disclosure/guard-params.ts';
import { buildApp } from '../../server/app.ts';
import { ensureDemoUsers } from '../../server/lab/demo-users.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { listenForResults } from '../../server/services/job.service.ts';
import { signIn, waitForJob, type ApiClient } from '../support/api-client.ts';
import { createPgTestLab, type TestLab } from '../support/pg-lab.ts';

/**
 * The attacker's lab: a seeded city on real Postgres, the six domain workers on the in-process
 * queue, the real HTTP server on a local port, and the demo users signed in. Attacks go through
 * the API like a browser would; the test itself may look at the truth (truth.json and the domain
 * databases) to know what the attacker is after and to judge what they learned.
 */
export interface PrivacyLab {
  readonly lab: TestLab;
  readonly baseUrl: string;
  readonly password: string;
  readonly truth: GroundTruth;
  readonly domains: Record<DomainId, Database>;
  readonly analyst: ApiClient;
  readonly officer: ApiClient;
  readonly officer2: ApiClient;
  readonly researcher: ApiClient;
  /** Every log line of the server and the workers (to check that nothing leaks there either). */
  readonly logs: string[];
  close(): Promise<void>;
}

export async function createPrivacyLab(opts: { persons: number; seed: string }): Promise<PrivacyLab> {
  const password = 'privacy-attack-suite-pw';
  const queue = new InlineQueue();
  const workers: DomainWorker[] = [];
  const lab = await createPgTestLab();
  const domains = {} as Record<DomainId, Database>;
  for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
  const truthFile = join(lab.cfg.dataDir, 'truth.json');
  await seedCity({ persons: opts.persons, seed: opts.seed, domains, truthFile });
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as GroundTruth;
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => { logs.push(line); } });
  for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue, logger }));
  await ensureDemoUsers(lab.control, password);
  await listenForResults(lab.control, queue, logger);
  const app = buildApp({ control: lab.control, logger, queue, health: () => Promise.resolve({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
  const server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)); });
  // The attackers' client keeps connections alive across long local computations (LPs); a server
  // closing an idle connection just as the client reuses it would fail a request with ECONNRESET.
  if ('keepAliveTimeout' in server) { server.keepAliveTimeout = 300_000; server.headersTimeout = 301_000; }
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [analyst, officer, officer2, researcher] = await Promise.all(['analyst', 'officer', 'officer2', 'researcher'].map((u) => signIn(baseUrl, u, password))) as [ApiClient, ApiClient, ApiClient, ApiClient];
  return {
    lab, baseUrl, password, truth, domains, analyst, officer, officer2, researcher, logs,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const w of workers) await w.stop();
      await queue.close();
      await lab.drop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Pipelines, as the attacker writes them

export interface PipelineNode { id: string; op: string; inputs?: Record<string, string>; params: Record<string, unknown> }
export interface PipelineDoc { specVersion: 1; name: string; nodes: PipelineNode[] }

/** source → filter → (derive) → aggregate → output, the shape of most attacks. */
export function countPipeline(args: {
  name: string;
  dataset: string;
  where?: string;
  derive?: { name: string; expr: string }[];
  groupBy: string[];
  measures?: { kind: 'count_persons' | 'count_distinct' | 'sum' | 'mean'; column?: string; name?: string }[];
  subtotals?: 'none' | 'margins';
}): PipelineDoc {
  const nodes: PipelineNode[] = [{ id: 'src', op: 'source@1', params: { dataset: args.dataset } }];
  let last = 'src';
  if (args.where) { nodes.push({ id: 'f', op: 'filter@1', inputs: { rows: last }, params: { condition: args.where } }); last = 'f'; }
  if (args.derive?.length) { nodes.push({ id: 'd', op: 'derive@1', inputs: { rows: last }, params: { columns: args.derive } }); last = 'd'; }
  nodes.push({ id: 'agg', op: 'aggregate@1', inputs: { rows: last }, params: { groupBy: args.groupBy, measures: args.measures ?? [{ kind: 'count_persons' }], subtotals: args.subtotals ?? 'none' } });
  nodes.push({ id: 'out', op: 'output@1', inputs: { table: 'agg' }, params: {} });
  return { specVersion: 1, name: args.name, nodes };
}

export interface RunOutcome {
  jobId: string;
  state: string;
  /** The job's error as the requester sees it (null when it succeeded). */
  error: unknown;
  /** The released tables by stage id (empty unless succeeded and readable by the requester). */
  tables: Map<string, ReleasedTable>;
  /** Every body the requester received for this job, as text (for leak checks). */
  bodies: string[];
}

/** Saves and runs a pipeline as `api`, waits for it, reads the result when there is one. Staff jobs only (no approval). */
export async function runAs(api: ApiClient, doc: PipelineDoc): Promise<RunOutcome> {
  const saved = await api.post('/api/pipelines', doc);
  const savedText = await saved.text();
  if (saved.status !== 201) throw new Error(`save refused: ${saved.status} ${savedText}`);
  const { id } = JSON.parse(savedText) as { id: string };
  const run = await api.post(`/api/pipelines/${id}/runs`);
  const runText = await run.text();
  if (run.status !== 202) throw new Error(`run refused: ${run.status} ${runText}`);
  const { jobId } = JSON.parse(runText) as { jobId: string };
  return finish(api, jobId, [savedText, runText]);
}

/** Waits for a job, then reads its job record, events and (if any) result as `api`. */
export async function finish(api: ApiClient, jobId: string, bodies: string[] = []): Promise<RunOutcome> {
  const job = await waitForJob(api, jobId, 120_000);
  const jobText = await (await api.get(`/api/jobs/${jobId}`)).text();
  const events = await (await api.get(`/api/jobs/${jobId}/events`)).text();
  const res = await api.get(`/api/jobs/${jobId}/result`);
  const resText = await res.text();
  const tables = new Map<string, ReleasedTable>();
  if (res.status === 200) {
    for (const t of (JSON.parse(resText) as { tables: { stageId: string; table: ReleasedTable }[] }).tables) tables.set(t.stageId, t.table);
  }
  return { jobId, state: job.state, error: job.error, tables, bodies: [...bodies, jobText, events, resText] };
}

/** The single table of a one-output job; throws when the job released nothing. */
export function only(outcome: RunOutcome): ReleasedTable {
  const t = outcome.tables.get('out') ?? [...outcome.tables.values()][0];
  if (!t) throw new Error(`job ${outcome.jobId} released nothing: ${outcome.state} ${JSON.stringify(outcome.error)}`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// The truth, for judging

/** The exact pre-guard rows of a pipeline's output stage, computed in the domain (the test's view, never the attacker's). */
export async function trueRows(db: Database, domain: DomainId, doc: PipelineDoc, stageId = 'out'): Promise<RawRow[]> {
  const stage = stageFor(domain, { jobId: 'truth', stageId, pipeline: doc, guard: DEFAULT_STAFF_PARAMS });
  return runStageQuery(db, stage);
}

/** A cell's identity inside one table: grouping and key values. */
export const cellOf = (grouping: number, keys: readonly (string | null)[]) => `${grouping}|${JSON.stringify(keys)}`;
export const rowCell = (r: ReleasedRow) => cellOf(r.grouping, r.keys);

/** The exact person count of every cell of a released table, from the pre-guard rows. */
export function exactUnits(table: ReleasedTable, rows: readonly RawRow[]): Map<string, number> {
  const keyNames = table.columns.filter((c) => c.role === 'key').map((c) => c.name);
  const out = new Map<string, number>();
  for (const r of rows) {
    const keys = keyNames.map((k) => (r[k] === null || r[k] === undefined ? null : String(r[k])));
    out.set(cellOf(Number(r['__grouping'] ?? 0), keys), Number(r['__units']));
  }
  return out;
}

/**
 * A released table completed with every cell the pre-guard rows hold: the cells the output leaves
 * out (suppressed cells holding no released cell) come back as suppressed rows. An attacker given
 * this knows which cells exist — more than the output shows — so attacks on it are at least as
 * strong as on the output itself.
 */
export function completeWithTruth(table: ReleasedTable, rows: readonly RawRow[]): ReleasedTable {
  const keyNames = table.columns.filter((c) => c.role === 'key').map((c) => c.name);
  const listed = new Map(table.rows.map((r) => [rowCell(r), r]));
  const out: ReleasedRow[] = rows.map((r) => {
    const keys = keyNames.map((k) => (r[k] === null || r[k] === undefined ? null : String(r[k])));
    const grouping = Number(r['__grouping'] ?? 0);
    return listed.get(cellOf(grouping, keys)) ?? { keys, grouping, values: table.columns.filter((c) => c.role === 'measure').map(() => null), suppressed: true, rounded: false, allOfParent: false };
  });
  if (table.rows.some((r) => !out.includes(r))) throw new Error('a listed cell is not among the pre-guard rows');
  return { ...table, rows: out };
}

// ---------------------------------------------------------------------------------------------
// Linear programming: what an attacker can solve for

// highs ships a CommonJS typing whose default export TypeScript (NodeNext) sees as the namespace;
// at run time the ESM build's default export is the loader function itself.
type Loader = () => Promise<LegacyHighs>;
const loadHighs: Loader = (highsModule as unknown as { default?: Loader }).default ?? (highsModule as unknown as Loader);
let highsInstance: LegacyHighs | undefined;
export async function highs(): Promise<LegacyHighs> {
  highsInstance ??= await loadHighs();
  return highsInstance;
}

/**
 * A system the attacker knows: unknowns with lower (and optional upper) bounds, and equations
 * Σ coef·x = rhs. `range(objective)` gives the minimum and maximum of a linear objective.
 */
export class AttackerLp {
  private readonly bounds = new Map<string, [number, number | undefined]>();
  private readonly rows: string[] = [];

  unknown(name: string, lo: number, hi?: number): void { this.bounds.set(name, [lo, hi]); }
  equation(terms: readonly (readonly [string, number])[], rhs: number): void {
    this.rows.push(` e${this.rows.length}: ${lin(terms)} = ${rhs}`);
  }
  interval(terms: readonly (readonly [string, number])[], lo: number, hi: number): void {
    this.rows.push(` e${this.rows.length}: ${lin(terms)} >= ${lo}`);
    this.rows.push(` e${this.rows.length}: ${lin(terms)} <= ${hi}`);
  }

  async range(objective: readonly (readonly [string, number])[]): Promise<[number, number]> {
    const h = await highs();
    const bounds = [...this.bounds].map(([n, [lo, hi]]) => (hi === undefined ? ` ${n} >= ${lo}` : ` ${lo} <= ${n} <= ${hi}`));
    const lp = (sense: string) => `${sense}\n obj: ${lin(objective)}\nSubject To\n${this.rows.join('\n')}\nBounds\n${bounds.join('\n')}\nEnd`;
    const lo = h.solve(lp('Minimize'));
    const hi = h.solve(lp('Maximize'));
    if (lo.Status !== 'Optimal') throw new Error(`attacker LP: ${lo.Status}`);
    return [lo.ObjectiveValue, hi.Status === 'Unbounded' ? Infinity : hi.ObjectiveValue];
  }
}

function lin(terms: readonly (readonly [string, number])[]): string {
  return terms.map(([n, c], i) => `${c < 0 ? ' - ' : i === 0 ? '' : ' + '}${Math.abs(c) === 1 ? '' : `${Math.abs(c)} `}${n}`).join('');
}

// ---------------------------------------------------------------------------------------------
// Leak checks on text the attacker received

/** An 18-character ID number (GB 11643) anywhere in a text. */
export const ID_NUMBER = /\d{17}[\dX]/;

// ---------------------------------------------------------------------------------------------
// What the attacker knows about a target, and the test's look at the truth

/** A read-only query on a domain database: the test looking at the truth (never the attacker). */
export async function truthQuery<R>(db: Database, sqlText: string, parameters: readonly unknown[] = []): Promise<R[]> {
  return db.readOnlyQuery<R>(sqlText, parameters, { timeoutMs: 60_000 });
}

/**
 * What a neighbour knows about a person — date of birth, sex, place of origin — written as a
 * condition on a dataset's ID-number column through the catalog's safe derivations (L2–L3: a run
 * with it needs no approval). The ID number itself is never typed in.
 */
export function quasiId(idNumber: string, column = 'id_number'): string {
  const birth = `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`;
  const sex = Number(idNumber[16]) % 2 === 1 ? 'M' : 'F';
  return `(birth_date_from_id(${column}) = DATE '${birth}' AND sex_from_id(${column}) = '${sex}' AND region_of_id(${column}) = '${idNumber.slice(0, 6)}')`;
}

/**
 * 1 for the persons born on the person's birthday, 0 for everyone else: arithmetic with no boolean
 * part, which the condition audit (it judges boolean parts) does not see
 * (docs/privacy-attacks.md#arithmetic-isolation). For a target whose birthday no one else in the
 * dataset shares, it singles the person out; the guard's own rules then have to hold.
 */
export function bornOnBirthdayOf(idNumber: string, birthDate = 'birth_date_from_id(id_number)'): string {
  const birth = `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`;
  return `(1 - least(1, abs(days_between(${birthDate}, DATE '${birth}'))))`;
}

/** The SQL of the birthday in an ID number, for the test to pick persons whose birthday is unique. */
export const BIRTHDAY_SQL = (column: string) => `substr(${column}, 7, 8)`;

/** The SQL twin of `quasiId`, for the test to check that it singles out one person. */
export const QUASI_ID_SQL = (column: string) => `substr(${column}, 7, 8) || substr(${column}, 1, 6) || ((ascii(substr(${column}, 17, 1)) - 48) % 2)::text`;

/** A released row's keys by column name (null where rolled up). */
export function keysByName(table: ReleasedTable, row: ReleasedRow): Record<string, string | null> {
  const names = table.columns.filter((c) => c.role === 'key').map((c) => c.name);
  const K = names.length;
  return Object.fromEntries(names.map((n, i) => [n, (row.grouping & (1 << (K - 1 - i))) ? null : row.keys[i] ?? null]));
}

/**
 * The finest cells of `base` that a row of any table sums: those agreeing on every key the row
 * groups by (matched by column name, so rows of other tables over the same keys count too).
 */
export function finestUnder(base: ReleasedTable, table: ReleasedTable, row: ReleasedRow): number[] {
  const want = Object.entries(keysByName(table, row)).filter(([, v]) => v !== null);
  const out: number[] = [];
  base.rows.forEach((f, i) => {
    if (f.grouping !== 0) return;
    const fk = keysByName(base, f);
    if (want.every(([k, v]) => k in fk && fk[k] === v)) out.push(i);
  });
  return out;
}
