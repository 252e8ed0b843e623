import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { planPipeline, type DomainStage, type FollowUpStage } from '../../../sandbox/plan/planner.ts';
import { validatePipeline } from '../../../sandbox/pipeline/validate.ts';
import { followUpTable } from '../../../sandbox/runtime/worker/follow-up.ts';
import { heldPsiSessions } from '../../../sandbox/runtime/worker/psi-step.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { waitForJob, type ApiClient } from '../../support/api-client.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

const s4a = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s4-suspected-unregistered.json', import.meta.url), 'utf8')) as unknown;

/**
 * S4a end to end through the HTTP API: three PSI steps (social, housing, grid each against the
 * registry), the counts released to the analyst, the follow-up lists kept in each source domain
 * and read by its stewards only. Expected values come from the ground truth: the per-source list is
 * the truth's ID numbers seen in that source, the district counts are those persons counted by the
 * source rows' districts (read from the source database by the test, never by the lab).
 */
describe('S4a suspected unregistered: PSI steps in a pipeline, guarded counts, follow-up lists', () => {
  let served: ServedLab;
  let analyst: ApiClient;
  let officer: ApiClient;
  let officer2: ApiClient;
  let jobId = '';
  let tables: { stageId: string; table: ReleasedTable }[] = [];

  const W = "start_date <= DATE '2026-06-30' AND (end_date IS NULL OR end_date > DATE '2025-06-30')";
  /** Per source: the test's own SQL for (district, id) of qualifying rows, in the source's database. */
  const SOURCES = {
    social: { out: 'out_social', list: 'list_social', sql: `SELECT work_district_code AS d, id_number AS id FROM employment WHERE ${W}` },
    housing: { out: 'out_housing', list: 'list_housing', sql: `SELECT h.district_code AS d, t.tenant_id_number AS id FROM tenancy t JOIN rental_house h ON h.house_id = t.house_id WHERE ${W.replace(/start_date/g, 't.start_date').replace(/end_date/g, 't.end_date')}` },
    grid: { out: 'out_grid', list: 'list_grid', sql: "SELECT district_code AS d, id_number AS id FROM visit WHERE visited_on > DATE '2025-06-30' AND visited_on <= DATE '2026-06-30'" },
  } as const;

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 's4a-psi', password: 's4a-psi-password' });
    [analyst, officer, officer2] = await Promise.all(['analyst', 'officer', 'officer2'].map((u) => served.signIn(u))) as [ApiClient, ApiClient, ApiClient];
    expect(served.truth.window).toEqual({ after: '2025-06-30', through: '2026-06-30' });
    const saved = await analyst.post('/api/pipelines', s4a);
    expect(saved.status).toBe(201);
    const { id } = await saved.json() as { id: string };
    const run = await analyst.post(`/api/pipelines/${id}/runs`);
    expect(run.status).toBe(202);
    const body = await run.json() as { jobId: string; state: string; approvalsRequired: number };
    jobId = body.jobId;
    if (body.state === 'awaiting_approval') {
      expect((await officer.post(`/api/jobs/${jobId}/approve`, { note: 'S4a 核查' })).status).toBe(200);
      if (body.approvalsRequired > 1) expect((await officer2.post(`/api/jobs/${jobId}/approve`, { note: 'S4a 核查' })).status).toBe(200);
    }
    const done = await waitForJob(analyst, jobId, 180_000);
    expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded' });
    const res = await analyst.get(`/api/jobs/${jobId}/result`);
    expect(res.status).toBe(200);
    tables = (await res.json() as { tables: { stageId: string; table: ReleasedTable }[] }).tables;
  }, 400_000);
  afterAll(async () => { await served?.close(); });

  const plan = () => {
    const v = validatePipeline(s4a);
    if (!v.ok) throw new Error('invalid');
    return planPipeline(v.pipeline);
  };
  const qualifying = async (db: Database, text: string) => db.readOnlyQuery<{ d: string; id: string }>(text, [], { timeoutMs: 60_000 });

  it('the analyst gets one table per output and one count per list: no step bookkeeping, no identifier', () => {
    expect(tables.map((t) => t.stageId).sort()).toEqual(['list_grid', 'list_housing', 'list_social', 'out_grid', 'out_housing', 'out_social']);
    expect(JSON.stringify(tables)).not.toMatch(/\d{17}[\dX]/);
    expect(JSON.stringify(tables)).not.toMatch(/psi~/);
  });

  it('the export holds the released tables only (no step bookkeeping), for CSV and XLSX', async () => {
    const csv = await analyst.get(`/api/jobs/${jobId}/result.csv`);
    expect(csv.status).toBe(200);
    const text = await csv.text();
    expect(text).not.toMatch(/psi~|\d{17}[\dX]/);
    expect(text).toMatch(/疑似漏登/);
    expect((await analyst.get(`/api/jobs/${jobId}/result.xlsx`)).status).toBe(200);
  });

  for (const [domain, src] of Object.entries(SOURCES) as [keyof typeof SOURCES, (typeof SOURCES)[keyof typeof SOURCES]][]) {
    it(`${domain}: released district counts = the staff guard on the truth's persons by source district; the list count = the truth's per-source total`, async () => {
      const truthIds = new Set(served.truth.s4a.idNumbers);
      const rows = (await qualifying(served.domains[domain], src.sql)).filter((r) => truthIds.has(r.id));
      const byDistrict = new Map<string, Set<string>>();
      for (const r of rows) byDistrict.set(r.d, (byDistrict.get(r.d) ?? new Set()).add(r.id));
      const stage = plan().stages.find((s): s is DomainStage => s.kind === 'domain' && s.id === src.out);
      if (!stage) throw new Error('no stage');
      const key = stage.table.keys[0]?.name ?? '';
      const truthRows: RawRow[] = [...byDistrict].map(([d, ids]) => ({ [key]: d, __grouping: 0, __units: ids.size, persons: ids.size }));
      expect(truthRows.length).toBeGreaterThan(3);
      const got = tables.find((t) => t.stageId === src.out)?.table;
      expect(got).toEqual(guardForStaff(stage.table, truthRows, DEFAULT_STAFF_PARAMS));
      // The source's persons: exactly the truth's per-source total (each counted once per source).
      const sourceName = domain === 'social' ? 'employment' : domain === 'housing' ? 'tenancy' : 'visit';
      const total = Object.values(served.truth.s4a.bySource[sourceName]).reduce((a, n) => a + n, 0);
      expect(new Set(rows.map((r) => r.id)).size).toBe(total);
      const list = plan().stages.find((s): s is FollowUpStage => s.kind === 'follow-up' && s.id === src.list);
      if (!list) throw new Error('no list');
      expect(tables.find((t) => t.stageId === src.list)?.table).toEqual(followUpTable(list, total, DEFAULT_STAFF_PARAMS));
    });
  }

  it('follow-up lists: each source steward reads its list; the union is exactly the truth; others are refused', async () => {
    const union = new Set<string>();
    for (const [domain, src] of Object.entries(SOURCES)) {
      const steward = await served.signIn(`steward.${domain}`);
      const lists = await steward.get(`/api/domains/${domain}/follow-ups`);
      expect(lists.status).toBe(200);
      const { lists: mine } = await lists.json() as { lists: { listId: string; jobId: string; count: number; title: string }[] };
      const entry = mine.find((l) => l.listId === `${jobId}~${src.list}`);
      expect(entry).toMatchObject({ jobId });
      const res = await steward.get(`/api/domains/${domain}/follow-ups/${jobId}~${src.list}`);
      expect(res.status).toBe(200);
      const { rows } = await res.json() as { rows: string[] };
      expect(rows.length).toBe(entry?.count);
      const truthIds = new Set(served.truth.s4a.idNumbers);
      const seen = new Set((await qualifying(served.domains[domain as keyof typeof SOURCES], src.sql)).map((r) => r.id));
      expect(rows.sort()).toEqual([...seen].filter((id) => truthIds.has(id)).sort());
      for (const r of rows) union.add(r);
      // Another domain's steward and the analyst are refused; an unknown list is 404.
      const other = await served.signIn(domain === 'grid' ? 'steward.social' : 'steward.grid');
      expect((await other.get(`/api/domains/${domain}/follow-ups`)).status).toBe(403);
      expect((await other.get(`/api/domains/${domain}/follow-ups/${jobId}~${src.list}`)).status).toBe(403);
      expect((await analyst.get(`/api/domains/${domain}/follow-ups/${jobId}~${src.list}`)).status).toBe(403);
      expect((await steward.get(`/api/domains/${domain}/follow-ups/${jobId}~nosuch`)).status).toBe(404);
    }
    expect([...union].sort()).toEqual([...served.truth.s4a.idNumbers].sort());
  });

  it('the job left no members and no session behind; the audit has step start and end with sizes only', async () => {
    // The job's end reaches the receivers through the queue: wait for it (at most 10 s).
    for (const d of ['social', 'housing', 'grid'] as const) {
      let n = '';
      for (let i = 0; i < 100; i++) {
        n = (await served.domains[d].readOnlyQuery<{ n: string }>('SELECT count(*)::text AS n FROM lab_psi_member', [], { timeoutMs: 10_000 }))[0]?.n ?? '';
        if (n === '0') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(n, d).toBe('0');
    }
    expect(heldPsiSessions()).toBe(0);
    const audit = await served.lab.control.readOnlyQuery<{ action: string; detail: unknown }>(
      "SELECT action, detail FROM audit_entry WHERE resource_id = $1 AND action LIKE 'job.step.%' ORDER BY seq", [jobId], { timeoutMs: 10_000 });
    expect(audit.filter((a) => a.action === 'job.step.start')).toHaveLength(3);
    const ends = audit.filter((a) => a.action === 'job.step.end');
    expect(ends).toHaveLength(3);
    for (const e of ends) expect(e.detail).toMatchObject({ keysWiped: true, receiverItems: expect.any(Number), senderItems: expect.any(Number) });
    expect(JSON.stringify(audit)).not.toMatch(/\d{17}[\dX]/);
  });
});
