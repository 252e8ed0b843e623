import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../../sandbox/domains/generator/index.ts';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import type { ReleasedTable } from '../../../sandbox/disclosure/released-table.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { executeStage, runStageQuery, stageFor, type StagePayload } from '../../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { keysetsOf } from '../../../sandbox/disclosure/release-ledger.ts';
import { loadLedgerEntries } from '../../../sandbox/runtime/worker/release-ledger.repository.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

/** Persons by district × sex × age band with every margin, for the active persons a condition keeps. */
const pipeline = (condition: string, by: readonly string[] = ['sex', 'age_band']) => ({
  specVersion: 1, name: 'ledger test',
  nodes: [
    { id: 'persons', op: 'source@1', params: { dataset: 'registry.person' } },
    { id: 'keep', op: 'filter@1', inputs: { rows: 'persons' }, params: { condition } },
    { id: 'bands', op: 'derive@1', inputs: { rows: 'keep' }, params: { columns: [{ name: 'age_band', expr: 'bucket(age(birth_date), 0, 15, 25, 45, 60, 80)' }] } },
    { id: 'rollup', op: 'geo-rollup@1', inputs: { rows: 'bands' }, params: { depth: 'district', by, measures: [{ kind: 'count_persons' }] } },
    { id: 'out', op: 'output@1', inputs: { table: 'rollup' }, params: { title: 'ledger test' } },
  ],
});
const payload = (jobId: string, condition: string): StagePayload => ({ jobId, stageId: 'out', pipeline: pipeline(condition), guard: DEFAULT_STAFF_PARAMS });

const KEYS = ['district_code', 'sex', 'age_band'];
const idOf = (grouping: number, keys: readonly (string | null)[]) => `${grouping}|${keys.join(',')}`;
const exactCounts = (rows: readonly RawRow[]) => new Map(rows.map((r) => [idOf(Number(r['__grouping']), KEYS.map((k) => (r[k] === null ? null : String(r[k])))), Number(r['__units'])]));
const releasedIds = (t: ReleasedTable) => new Set(t.rows.filter((r) => !r.suppressed).map((r) => idOf(r.grouping, r.keys)));

describe('release ledger: differencing across jobs', () => {
  let lab: TestLab;
  let registry: Database;
  let everyone: string;
  let allButThree: string;

  beforeAll(async () => {
    lab = await createPgTestLab();
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    await seedCity({ persons: 20_000, seed: 'ledger', domains });
    registry = domains.registry;
    // Three active persons and five who are not: the IN list holds for 8 persons of the registry, so
    // the condition audit lets it pass (it refuses a part that singles out 7 or fewer), and among
    // the active it leaves out exactly three.
    const eight = await sql<{ id_number: string }>`
      (SELECT id_number FROM person WHERE status = 'active' ORDER BY id_number LIMIT 3)
      UNION ALL (SELECT id_number FROM person WHERE status <> 'active' ORDER BY id_number LIMIT 5)`.execute(registry.kysely);
    expect(eight.rows).toHaveLength(8);
    everyone = "status = 'active'";
    allButThree = `status = 'active' AND NOT (id_number IN (${eight.rows.map((r) => `'${r.id_number}'`).join(', ')}))`;
  }, 240_000);
  afterAll(async () => { await lab?.drop(); });

  it('a second table that leaves out three persons releases no cell that differs from the first by 1 to 7', async () => {
    const first = await executeStage(registry, 'registry', payload('job-a', everyone));
    const second = await executeStage(registry, 'registry', payload('job-b', allButThree));
    const a = exactCounts(await runStageQuery(registry, stageFor('registry', payload('job-a', everyone))));
    const b = exactCounts(await runStageQuery(registry, stageFor('registry', payload('job-b', allButThree))));
    const inFirst = releasedIds(first);
    let compared = 0;
    let differing = 0;
    for (const id of releasedIds(second)) {
      if (!inFirst.has(id)) continue;
      const d = Math.abs((a.get(id) ?? 0) - (b.get(id) ?? 0));
      compared++;
      if (d > 0) differing++;
      expect(d === 0 || d > DEFAULT_STAFF_PARAMS.threshold, `cell ${id} differs by ${d}`).toBe(true);
    }
    expect(compared).toBeGreaterThan(10);
    // The city total changed by exactly 3: released the first time, suppressed the second.
    const total = idOf(7, [null, null, null]);
    expect(a.get(total)! - b.get(total)!).toBe(3);
    expect(inFirst.has(total)).toBe(true);
    expect(releasedIds(second).has(total)).toBe(false);
    expect(differing).toBe(0);
    // Without the ledger the guard would have released it: the test can fail.
    const stage = stageFor('registry', payload('job-b', allButThree));
    const alone = guardForStaff(stage.table, await runStageQuery(registry, stage), DEFAULT_STAFF_PARAMS);
    expect(releasedIds(alone).has(total)).toBe(true);
  });

  it('the same population again gets the same table; a retried stage is not compared with itself', async () => {
    const first = await executeStage(registry, 'registry', payload('job-c', everyone));
    const again = await executeStage(registry, 'registry', payload('job-d', everyone));
    expect(again).toEqual(first);
    const retried = await executeStage(registry, 'registry', payload('job-d', everyone));
    expect(retried).toEqual(first);
    const n = await sql<{ n: string }>`SELECT count(*)::text AS n FROM lab_release WHERE release_id = 'job-d:out'`.execute(registry.kysely);
    expect(n.rows[0]?.n).toBe('1');
    // Read back for a later job, a cell released again with the same contributors comes once.
    const entries = await loadLedgerEntries(registry, keysetsOf(stageFor('registry', payload('x', everyone)).table.groupingSets), 'later:out');
    const ids = entries.map((e) => `${e.keyset}|${e.cell}|${e.fingerprint}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(0);
  });

  it('the ledger stays inside the domain: the released table carries no fingerprint or exact count', async () => {
    const t = await executeStage(registry, 'registry', payload('job-e', everyone));
    const text = JSON.stringify(t);
    expect(text).not.toContain('__fp');
    expect(text).not.toContain('__units');
    for (const r of t.rows) for (const v of r.values) if (v !== null) expect(v % 5).toBe(0);
  });
});

describe('cell-key noise (optional rule)', () => {
  let lab: TestLab;
  let registry: Database;
  const noisy = { ...DEFAULT_STAFF_PARAMS, cellKeyNoise: { d: 2 } };
  const run = (jobId: string, by?: readonly string[]) => executeStage(registry, 'registry', { jobId, stageId: 'out', pipeline: pipeline("status = 'active'", by), guard: noisy });

  beforeAll(async () => {
    lab = await createPgTestLab();
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    await seedCity({ persons: 20_000, seed: 'noise', domains });
    registry = domains.registry;
  }, 240_000);
  afterAll(async () => { await lab?.drop(); });

  it('moves counts by at most d before rounding, and the same persons get the same answer in another table and job', async () => {
    const full = await run('n1');
    expect(full.guard.cellKeyNoise).toBe(2);
    const stage = stageFor('registry', { jobId: 'n1', stageId: 'out', pipeline: pipeline("status = 'active'"), guard: noisy });
    const exact = exactCounts(await runStageQuery(registry, stage));
    let moved = 0;
    for (const r of full.rows) {
      const v = r.values[0];
      if (v === null || v === undefined) continue;
      const e = exact.get(idOf(r.grouping, r.keys)) ?? NaN;
      expect(Math.abs(v - e)).toBeLessThanOrEqual(2 + 2.5);
      if (v !== Math.round(e / 5) * 5) moved++;
    }
    expect(moved).toBeGreaterThan(0);
    // By district × sex only: its cells are the margins over age band of the first table.
    const bySex = await run('n2', ['sex']);
    const firstBy = new Map(full.rows.filter((r) => r.keys[2] === null).map((r) => [`${String(r.keys[0])}|${String(r.keys[1])}`, r]));
    let compared = 0;
    for (const r of bySex.rows) {
      const twin = firstBy.get(`${String(r.keys[0])}|${String(r.keys[1])}`);
      if (!twin || twin.suppressed || r.suppressed) continue;
      expect(r.values[0]).toBe(twin.values[0]);
      compared++;
    }
    expect(compared).toBeGreaterThan(5);
  });
});

