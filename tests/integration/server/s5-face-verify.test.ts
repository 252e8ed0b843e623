import { serve, type ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../../sandbox/domains/generator/index.ts';
import type { GroundTruth } from '../../../sandbox/domains/generator/ground-truth.ts';
import { planPipeline, type DomainStage, type FollowUpStage } from '../../../sandbox/plan/planner.ts';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { InlineQueue } from '../../../sandbox/runtime/queue/inline.queue.ts';
import type {
  Consumer, DeliveryResult, EnqueueOptions, QueueDriver, ResumeOutcome, StageHandler, StageMessage, WorkerHeartbeat,
} from '../../../sandbox/runtime/queue/queue-driver.ts';
import { startDomainWorker, type DomainWorker } from '../../../sandbox/runtime/worker/domain-worker.ts';
import { closeAllFaceSessions, heldFaceSessions } from '../../../sandbox/runtime/worker/face-step.ts';
import { followUpTable } from '../../../sandbox/runtime/worker/follow-up.ts';
import { runStageQuery } from '../../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { buildApp } from '../../../server/app.ts';
import { ensureDemoUsers } from '../../../server/lab/demo-users.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import { listenForResults } from '../../../server/services/job.service.ts';
import { signIn, waitForJob, type ApiClient } from '../../support/api-client.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

const s5 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s5-face-verification.json', import.meta.url), 'utf8')) as unknown;

/**
 * The coordinator's queue with a recorder in front (what the server process sees): every message it
 * sends and every answer it hears, kept as JSON for the transport canary; the jobs' `end`
 * deliveries are held back until released, so the test can read the pre-guard table while the
 * step's outcomes still exist. Workers consume from the inner queue.
 */
class RecordingQueue implements QueueDriver {
  readonly sent: string[] = [];
  readonly heard: string[] = [];
  holdEnds = true;
  /** A compromised coordinator in miniature: may change a message before it reaches a domain. */
  tamper: ((msg: StageMessage) => StageMessage) | undefined;
  readonly held: [StageMessage, EnqueueOptions | undefined][] = [];
  constructor(readonly inner: QueueDriver) {}
  get kind() { return this.inner.kind; }
  async onResult(domains: readonly DomainId[], handler: (r: DeliveryResult) => void): Promise<void> {
    await this.inner.onResult(domains, (r) => { this.heard.push(JSON.stringify(r)); handler(r); });
  }
  async enqueue(msg: StageMessage, options?: EnqueueOptions): Promise<void> {
    if (this.tamper) msg = this.tamper(msg);
    this.sent.push(JSON.stringify(msg));
    if (this.holdEnds && /-(sender-)?end$/.test(msg.key)) { this.held.push([msg, options]); return; }
    await this.inner.enqueue(msg, options);
  }
  async releaseEnds(): Promise<void> {
    this.holdEnds = false;
    for (const [m, o] of this.held.splice(0)) await this.inner.enqueue(m, o);
  }
  resume(msg: StageMessage, options?: EnqueueOptions): Promise<ResumeOutcome> { return this.inner.resume(msg, options); }
  onReconnect(listener: () => void): void { this.inner.onReconnect(listener); }
  consume(domain: DomainId, handler: StageHandler, options?: { concurrency?: number }): Consumer { return this.inner.consume(domain, handler, options); }
  depth(domain: DomainId): Promise<number> { return this.inner.depth(domain); }
  cancel(domain: DomainId, key: string): Promise<void> { return this.inner.cancel(domain, key); }
  reportHeartbeat(beat: WorkerHeartbeat, ttlMs: number): Promise<void> { return this.inner.reportHeartbeat(beat, ttlMs); }
  heartbeats(domain: DomainId): Promise<WorkerHeartbeat[]> { return this.inner.heartbeats(domain); }
  ping(): Promise<void> { return this.inner.ping(); }
  close(): Promise<void> { return this.inner.close(); }
}

/**
 * S5 end to end through the HTTP API: the grid visits of Q, a face-compare step between the grid
 * (probe holder) and the registry (reference holder) over the coordinator's relay, the counts by
 * district and outcome released through the staff guard, the fails as a follow-up list in the grid
 * domain. Expected values come from the generator's ground truth (truth.s5).
 */
describe('S5 face verification: encrypted comparison step, guarded counts, follow-up list', () => {
  let lab: TestLab;
  let domains: Record<DomainId, Database>;
  let truth: GroundTruth;
  let server: ServerType;
  let baseUrl = '';
  const workers: DomainWorker[] = [];
  const inner = new InlineQueue();
  const queue = new RecordingQueue(inner);
  const logLines: string[] = [];
  const password = 's5-face-password';
  let analyst: ApiClient;
  let officers: ApiClient[] = [];
  let pipelineId = '';
  let jobId = '';
  let tables: { stageId: string; table: ReleasedTable }[] = [];
  let analystSaw = '';
  let preGuard: RawRow[] = [];
  let outcomesWhileRunning = 0;

  const plan = () => {
    const v = validatePipeline(s5);
    if (!v.ok) throw new Error('invalid');
    return planPipeline(v.pipeline);
  };
  const outStage = () => {
    const s = plan().stages.find((x): x is DomainStage => x.kind === 'domain' && x.id === 'out_s5');
    if (!s) throw new Error('no stage');
    return s;
  };
  const q = <R>(db: Database, text: string, params: unknown[] = []) => db.readOnlyQuery<R>(text, params, { timeoutMs: 60_000 });

  beforeAll(async () => {
    lab = await createPgTestLab();
    domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    const truthFile = join(lab.cfg.dataDir, 'truth.json');
    await seedCity({ persons: 20_000, seed: 's5-face', domains, truthFile });
    truth = JSON.parse(readFileSync(truthFile, 'utf8')) as GroundTruth;
    const logger = createLogger('debug', { write: (s: string) => { logLines.push(s); } });
    for (const d of DOMAIN_IDS) workers.push(await startDomainWorker({ domain: d, db: domains[d], queue: inner, logger }));
    await ensureDemoUsers(lab.control, password);
    await listenForResults(lab.control, queue, logger);
    const app = buildApp({ control: lab.control, logger, queue, health: async () => ({ status: 'ok', mode: 'postgres', checks: {} }), config: { secureCookies: false } });
    server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)); });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    analyst = await signIn(baseUrl, 'analyst', password);
    const [officer, officer2] = await Promise.all([signIn(baseUrl, 'officer', password), signIn(baseUrl, 'officer2', password)]);
    officers = [officer, officer2];

    const saved = await analyst.post('/api/pipelines', s5);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    pipelineId = id;
    const run = await analyst.post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const body = await run.json() as { jobId: string; state: string; approvalsRequired: number };
    jobId = body.jobId;
    if (body.state === 'awaiting_approval') {
      expect((await officer.post(`/api/jobs/${jobId}/approve`, { note: 'S5 人证核验' })).status).toBe(200);
      if (body.approvalsRequired > 1) expect((await officer2.post(`/api/jobs/${jobId}/approve`, { note: 'S5 人证核验' })).status).toBe(200);
    }
    const done = await waitForJob(analyst, jobId, 300_000);
    if (done.state !== 'succeeded') console.log(logLines.filter((l) => /"level":(40|50)|face step|protocol/.test(l)).join('').slice(0, 5000));
    expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded' });
    // The job's end is held back: the outcomes are still in the grid domain; the pre-guard table.
    outcomesWhileRunning = Number((await q<{ n: string }>(domains.grid, 'SELECT count(*)::text AS n FROM lab_face_outcome WHERE job_id = $1', [jobId]))[0]?.n);
    preGuard = await runStageQuery(domains.grid, outStage(), { jobId });
    await queue.releaseEnds();
    const job = await analyst.get(`/api/jobs/${jobId}`);
    const res = await analyst.get(`/api/jobs/${jobId}/result`);
    expect(res.status).toBe(200);
    const text = await res.text();
    analystSaw = (await job.text()) + text;
    tables = (JSON.parse(text) as { tables: { stageId: string; table: ReleasedTable }[] }).tables;
  }, 600_000);

  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const w of workers) await w.stop();
    await inner.close();
    await lab?.drop();
  });

  /** The visits of Q as the grid holds them (the test's own SQL), with the truth's outcome of each. */
  const truthVisits = async () => {
    const rows = await q<{ id: string; d: string; p: string }>(domains.grid, "SELECT visit_id::text AS id, district_code AS d, id_number AS p FROM visit WHERE visited_on >= DATE '2026-04-01'");
    const fail = new Set(truth.s5.failVisitIds.map(String));
    const unusable = new Set(truth.s5.unusableVisitIds.map(String));
    return rows.map((r) => ({ ...r, o: fail.has(r.id) ? 'fail' : unusable.has(r.id) ? 'unusable' : 'pass' }));
  };

  it('pre-guard counts (inside the grid domain) equal truth.s5 exactly, by district and outcome', async () => {
    expect(truth.s5.total.pass + truth.s5.total.fail + truth.s5.total.unusable).toBeGreaterThan(1000);
    expect(truth.s5.total.fail).toBeGreaterThan(20);
    const got: Record<string, Record<string, number>> = {};
    for (const r of preGuard) {
      const d = String(r['district_code']);
      (got[d] ??= { pass: 0, fail: 0, unusable: 0 })[String(r['face_outcome'])] = Number(r['visits']);
    }
    const want: Record<string, Record<string, number>> = {};
    for (const [d, cell] of Object.entries(truth.s5.byDistrict)) {
      if (cell.pass + cell.fail + cell.unusable > 0) want[d] = { ...cell };
    }
    expect(got).toEqual(want);
    // Outcomes written = the visits compared (usable captures): pass and fail, and unusable for lack of a reference.
    expect(outcomesWhileRunning).toBeGreaterThanOrEqual(truth.s5.total.pass + truth.s5.total.fail);
  });

  it('the released table equals the staff guard applied to the truth', async () => {
    const cells = new Map<string, { d: string; o: string; visits: number; persons: Set<string> }>();
    for (const v of await truthVisits()) {
      const k = `${v.d}|${v.o}`;
      const c = cells.get(k) ?? { d: v.d, o: v.o, visits: 0, persons: new Set<string>() };
      c.visits++;
      c.persons.add(v.p);
      cells.set(k, c);
    }
    const truthRows: RawRow[] = [...cells.values()].map((c) => ({ district_code: c.d, face_outcome: c.o, __grouping: 0, __units: c.persons.size, visits: c.visits }));
    const got = tables.find((t) => t.stageId === 'out_s5')?.table;
    expect(got).toEqual(guardForStaff(outStage().table, truthRows, DEFAULT_STAFF_PARAMS));
  });

  it('the follow-up list in the grid domain is exactly the card holders of the truth\u2019s fail visits; the analyst sees only its guarded count', async () => {
    const fails = (await truthVisits()).filter((v) => v.o === 'fail');
    expect(fails.length).toBe(truth.s5.failVisitIds.length);
    const persons = [...new Set(fails.map((v) => v.p))].sort();
    const steward = await signIn(baseUrl, 'steward.grid', password);
    const res = await steward.get(`/api/domains/grid/follow-ups/${jobId}~list_fails`);
    expect(res.status).toBe(200);
    const { rows } = await res.json() as { rows: string[] };
    expect([...rows].sort()).toEqual(persons);
    const list = plan().stages.find((s): s is FollowUpStage => s.kind === 'follow-up' && s.id === 'list_fails');
    if (!list) throw new Error('no list');
    expect(tables.find((t) => t.stageId === 'list_fails')?.table).toEqual(followUpTable(list, persons.length, DEFAULT_STAFF_PARAMS));
    expect((await analyst.get(`/api/domains/grid/follow-ups/${jobId}~list_fails`)).status).toBe(403);
  });

  it('the analyst never sees a row, an ID number or a template', async () => {
    expect(tables.map((t) => t.stageId).sort()).toEqual(['list_fails', 'out_s5']);
    expect(analystSaw).not.toMatch(/\d{17}[\dX]/);
    expect(analystSaw).not.toMatch(/face_template/);
    expect(JSON.stringify(tables)).not.toMatch(/face~/);
  });

  it('transport canary: no template bytes and no ID number in queue messages, answers, the control database or the logs', { timeout: 300_000 }, async () => {
    const probe = (await q<{ p: string; t: Uint8Array }>(domains.grid, "SELECT id_number AS p, face_template AS t FROM visit WHERE visited_on >= DATE '2026-04-01' AND face_template IS NOT NULL AND face_unusable IS NULL ORDER BY visit_id LIMIT 200"));
    const refs = (await q<{ t: Uint8Array }>(domains.registry, 'SELECT template AS t FROM reference_photo WHERE id_number = ANY($1::text[]) AND template IS NOT NULL', [probe.map((r) => r.p)]));
    expect(probe.length).toBe(200);
    expect(refs.length).toBeGreaterThan(50);
    // ID numbers: every ID-number-shaped string anywhere, against all 200 card holders asked about.
    const asked = new Set(probe.map((r) => r.p));
    // Templates: 10 probes and 10 references, whole and in parts, as hex and base64.
    const planted: string[] = [];
    for (const b of [...probe.slice(0, 10).map((r) => r.t), ...refs.slice(0, 10).map((r) => r.t)]) {
      const buf = Buffer.from(b);
      planted.push(buf.toString('hex'), buf.toString('base64'), buf.subarray(0, 24).toString('base64'), buf.subarray(8, 32).toString('hex'));
    }
    // Everything the control database holds, as text.
    const tablesOfControl = await q<{ t: string }>(lab.control as unknown as Database, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    let controlText = '';
    for (const { t } of tablesOfControl) controlText += (await q<{ r: string }>(lab.control as unknown as Database, `SELECT x::text AS r FROM "${t}" x`)).map((r) => r.r).join('\n');
    const haystacks = { sent: queue.sent.join('\n'), heard: queue.heard.join('\n'), control: controlText, logs: logLines.join('') };
    expect(queue.sent.some((m) => m.includes('"type":"face"'))).toBe(true);
    expect(haystacks.sent.length).toBeGreaterThan(1_000_000); // the frames did cross the coordinator
    for (const [where, text] of Object.entries(haystacks)) {
      const ids = new Set(text.match(/\d{17}[\dX]/g) ?? []);
      expect([...ids].filter((x) => asked.has(x)), `${where} holds an ID number`).toEqual([]);
      for (const p of planted) expect(text.includes(p), `${where} holds a planted template`).toBe(false);
    }
  });

  it('the job left no outcome and no session behind; the audit has the step with sizes only', async () => {
    let n = '';
    for (let i = 0; i < 100; i++) {
      n = (await q<{ n: string }>(domains.grid, 'SELECT count(*)::text AS n FROM lab_face_outcome'))[0]?.n ?? '';
      if (n === '0' && heldFaceSessions() === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(n).toBe('0');
    expect(heldFaceSessions()).toBe(0);
    const audit = await q<{ action: string; detail: Record<string, unknown> }>(lab.control as unknown as Database,
      "SELECT action, detail FROM audit_entry WHERE resource_id = $1 AND action LIKE 'job.step.%' ORDER BY seq", [jobId]);
    expect(audit.map((a) => a.action)).toEqual(['job.step.start', 'job.step.end']);
    expect(audit[1]?.detail).toMatchObject({ stepId: 'face~verify', keysWiped: true });
  });

  it('a replayed probe group (the coordinator relays one twice) fails the job with LAB-E164 naming LAB-E193: nothing released, no outcome kept, keys wiped', { timeout: 300_000 }, async () => {
    queue.tamper = (msg) => {
      const p = msg.payload as { type?: string; phase?: string; messages?: string[] };
      if (p.type !== 'face' || p.phase !== 'sender-continue' || !p.messages?.[0]) return msg;
      return { ...msg, payload: { ...p, messages: [p.messages[0], ...p.messages] } };
    };
    try {
      const run = await analyst.post(`/api/pipelines/${pipelineId}/runs`);
      expect(run.status).toBe(202);
      const body = await run.json() as { jobId: string; state: string; approvalsRequired: number };
      for (const o of officers.slice(0, body.state === 'awaiting_approval' ? body.approvalsRequired : 0)) {
        expect((await o.post(`/api/jobs/${body.jobId}/approve`, { note: 'S5 重放' })).status).toBe(200);
      }
      const done = await waitForJob(analyst, body.jobId, 200_000);
      expect(done.state).toBe('failed');
      expect(done.error).toMatchObject({ code: 'LAB-E164' });
      expect(JSON.stringify(done.error)).toContain('LAB-E193');
      const res = await analyst.get(`/api/jobs/${body.jobId}/result`);
      const released = res.status === 200 ? (await res.json() as { tables: unknown[] }).tables : [];
      expect(released).toEqual([]);
      let n = '';
      for (let i = 0; i < 100; i++) {
        n = (await q<{ n: string }>(domains.grid, 'SELECT count(*)::text AS n FROM lab_face_outcome WHERE job_id = $1', [body.jobId]))[0]?.n ?? '';
        if (n === '0' && heldFaceSessions() === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(n).toBe('0');
      expect(heldFaceSessions()).toBe(0);
      const lists = await q<{ n: string }>(domains.grid, 'SELECT count(*)::text AS n FROM lab_follow_up_list WHERE job_id = $1', [body.jobId]);
      expect(lists[0]?.n).toBe('0');
    } finally {
      queue.tamper = undefined;
    }
  });

  it('a worker that loses its sessions mid-step (restarted) makes the coordinator restart the step with new keys; the job then releases the same table', { timeout: 300_000 }, async () => {
    let lost = false;
    queue.tamper = (msg) => {
      const p = msg.payload as { type?: string; phase?: string; run?: number };
      if (!lost && p.type === 'face' && p.phase === 'receiver-continue' && p.run === 0) {
        lost = true;
        closeAllFaceSessions(); // as a restarted worker: every key and session of this process gone
      }
      return msg;
    };
    try {
      const run = await analyst.post(`/api/pipelines/${pipelineId}/runs`);
      const body = await run.json() as { jobId: string; state: string; approvalsRequired: number };
      for (const o of officers.slice(0, body.state === 'awaiting_approval' ? body.approvalsRequired : 0)) {
        expect((await o.post(`/api/jobs/${body.jobId}/approve`, { note: 'S5 重启' })).status).toBe(200);
      }
      const done = await waitForJob(analyst, body.jobId, 250_000);
      expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded' });
      expect(lost).toBe(true);
      const res = await analyst.get(`/api/jobs/${body.jobId}/result`);
      const again = (await res.json() as { tables: { stageId: string; table: ReleasedTable }[] }).tables;
      expect(again.find((t) => t.stageId === 'out_s5')?.table).toEqual(tables.find((t) => t.stageId === 'out_s5')?.table);
      const audit = await q<{ action: string; detail: Record<string, unknown> }>(lab.control as unknown as Database,
        "SELECT action, detail FROM audit_entry WHERE resource_id = $1 AND action LIKE 'job.step.%' ORDER BY seq", [body.jobId]);
      expect(audit.map((a) => a.action)).toEqual(['job.step.start', 'job.step.restart', 'job.step.end']);
      expect(audit[1]?.detail).toMatchObject({ run: 1, after: 'receiver-continue', code: 'LAB-E163' });
    } finally {
      queue.tamper = undefined;
    }
  });
});
