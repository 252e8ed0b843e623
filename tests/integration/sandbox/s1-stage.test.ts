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

const s1 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as unknown;
const KEYS = ['district_code', 'street_code', 'community_code', 'grid_code', 'household_type', 'sex', 'age_band'] as const;

/** The S1 table computed from the ground truth alone: every grouping set summed from the base cells. */
function truthRows(truth: GroundTruth, groupingSets: readonly (readonly string[])[]): RawRow[] {
  const out = new Map<string, Record<string, unknown>>();
  for (const [grid, type, sex, band, persons] of truth.s1.cells) {
    const full: Record<string, string> = {
      district_code: grid.slice(0, 6), street_code: grid.slice(0, 9), community_code: grid.slice(0, 12), grid_code: grid,
      household_type: type, sex, age_band: band,
    };
    for (const set of groupingSets) {
      let grouping = 0;
      KEYS.forEach((k, i) => { if (!set.includes(k)) grouping |= 1 << (KEYS.length - 1 - i); });
      const row: Record<string, unknown> = { __grouping: grouping };
      for (const k of KEYS) row[k] = set.includes(k) ? full[k] : null;
      const id = `${grouping}|${KEYS.map((k) => String(row[k])).join('|')}`;
      const prev = out.get(id);
      if (prev) { prev['persons'] = Number(prev['persons']) + persons; prev['__units'] = prev['persons']; } else out.set(id, { ...row, persons, __units: persons });
    }
  }
  return [...out.values()];
}

const cellKey = (r: RawRow) => `${Number(r['__grouping'])}|${KEYS.map((k) => String(r[k] ?? null)).join('|')}`;

describe('S1 inside the registry domain equals the ground truth', () => {
  let lab: TestLab;
  let registry: Database;
  let truth: GroundTruth;
  const payload: StagePayload = { jobId: 'job1', stageId: 'out', pipeline: s1, guard: DEFAULT_STAFF_PARAMS };

  beforeAll(async () => {
    lab = await createPgTestLab();
    const domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    const truthFile = join(lab.cfg.dataDir, 'truth.json');
    await seedCity({ persons: 20_000, seed: 's1-stage', domains, truthFile });
    truth = JSON.parse(readFileSync(truthFile, 'utf8')) as GroundTruth;
    registry = domains.registry;
  }, 240_000);
  afterAll(async () => { await lab?.drop(); });

  it('pre-guard: every cell of every grouping set equals the truth exactly', async () => {
    const stage = stageFor('registry', payload);
    const got = await runStageQuery(registry, stage);
    const want = truthRows(truth, stage.table.groupingSets);
    expect(got.length).toBe(want.length);
    const wantByKey = new Map(want.map((r) => [cellKey(r), Number(r['persons'])]));
    for (const r of got) expect(Number(r['persons']), cellKey(r)).toBe(wantByKey.get(cellKey(r)));
    const total = got.find((r) => Number(r['__grouping']) === 127);
    expect(Number(total?.['persons'])).toBe(truth.s1.cells.reduce((a, c) => a + c[4], 0));
  });

  it('released: equals the staff guard applied to the truth; no small count, no identifier', async () => {
    const released = await executeStage(registry, 'registry', payload);
    const stage = stageFor('registry', payload);
    expect(released).toEqual(guardForStaff(stage.table, truthRows(truth, stage.table.groupingSets), DEFAULT_STAFF_PARAMS));
    for (const r of released.rows) for (const v of r.values) if (v !== null) expect(v).toBeGreaterThanOrEqual(10);
    const total = released.rows.find((r) => r.grouping === 127);
    expect(total?.suppressed).toBe(false);
    expect(JSON.stringify(released)).not.toMatch(/\d{17}[\dX]/);
  });

  it('a stage addressed to another domain is refused by the worker', () => {
    expect(() => stageFor('health', payload)).toThrow(expect.objectContaining({ code: 'LAB-E012' }));
  });

  it('a stage over its time limit fails with a clear reason', async () => {
    await expect(runStageQuery(registry, stageFor('registry', payload), { statementTimeoutMs: 1 })).rejects.toMatchObject({ code: 'LAB-E070' });
  });
});
