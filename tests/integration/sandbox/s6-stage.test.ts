import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { seedCity } from '../../../sandbox/domains/generator/index.ts';
import type { GroundTruth } from '../../../sandbox/domains/generator/ground-truth.ts';
import { DEFAULT_STAFF_PARAMS } from '../../../sandbox/disclosure/guard-params.ts';
import { guardForStaff, type RawRow } from '../../../sandbox/disclosure/staff-guard.ts';
import { executeStage, runStageQuery, stageFor, type StagePayload } from '../../../sandbox/runtime/worker/stage-executor.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

const s6 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s6-registry-new-inflow.json', import.meta.url), 'utf8')) as unknown;

/** The S6(a) table from the ground truth alone: one row per district, and the city total. */
function truthRows(truth: GroundTruth): RawRow[] {
  const byDistrict = Object.entries(truth.s6.registry);
  const total = byDistrict.reduce((a, [, n]) => a + n, 0);
  return [
    ...byDistrict.map(([district, n]): RawRow => ({ district_code: district, __grouping: 0, __units: n, persons: n })),
    { district_code: null, __grouping: 1, __units: total, persons: total },
  ];
}

const cellKey = (r: RawRow) => `${Number(r['__grouping'])}|${String(r['district_code'] ?? null)}`;

describe('S6(a) new inflow inside the registry domain equals the ground truth', () => {
  let lab: TestLab;
  let registry: Database;
  let truth: GroundTruth;
  const payload: StagePayload = { jobId: 'job6', stageId: 'out', pipeline: s6, guard: DEFAULT_STAFF_PARAMS };

  beforeAll(async () => {
    lab = await createPgTestLab();
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    const truthFile = join(lab.cfg.dataDir, 'truth.json');
    await seedCity({ persons: 20_000, seed: 's6-stage', domains, truthFile });
    truth = JSON.parse(readFileSync(truthFile, 'utf8')) as GroundTruth;
    registry = domains.registry;
  }, 240_000);
  afterAll(async () => { await lab?.drop(); });

  it('the quarter written relative to as_of() is the truth file\'s Q', () => {
    expect(truth.quarter).toEqual({ from: '2026-04-01', through: '2026-06-30' });
  });

  it('pre-guard: every district and the city total equal truth.s6.registry exactly', async () => {
    const stage = stageFor('registry', payload);
    expect(stage.domain).toBe('registry');
    const got = await runStageQuery(registry, stage);
    const want = truthRows(truth);
    expect(Object.keys(truth.s6.registry).length).toBeGreaterThan(5);
    expect(got.map(cellKey).sort()).toEqual(want.map(cellKey).sort());
    const wantByKey = new Map(want.map((r) => [cellKey(r), Number(r['persons'])]));
    for (const r of got) {
      expect(Number(r['persons']), cellKey(r)).toBe(wantByKey.get(cellKey(r)));
      expect(Number(r['__units'])).toBe(Number(r['persons']));
    }
  });

  it('released: equals the staff guard applied to rows built from the truth alone; nothing small, no identifier', async () => {
    const released = await executeStage(registry, 'registry', payload);
    const stage = stageFor('registry', payload);
    expect(released).toEqual(guardForStaff(stage.table, truthRows(truth), DEFAULT_STAFF_PARAMS));
    for (const r of released.rows) for (const v of r.values) if (v !== null) { expect(v).toBeGreaterThanOrEqual(10); expect(v % 5).toBe(0); }
    expect(released.rows.find((r) => r.grouping === 1)?.suppressed).toBe(false);
    expect(JSON.stringify(released)).not.toMatch(/\d{17}[\dX]/);
  });
});
