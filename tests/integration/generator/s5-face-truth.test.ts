import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareBatch, cosineInt8, SYNTHETIC_MODEL_ID, SYNTHETIC_THRESHOLD, type ReferenceTemplate } from '../../../sandbox/crypto/face-match/index.ts';
import { DOMAIN_IDS, type DomainId } from '../../../sandbox/domains/domain-ids.ts';
import { SYNTHETIC_MARGIN } from '../../../sandbox/domains/generator/face-synth.ts';
import { seedCity, type GroundTruth } from '../../../sandbox/domains/generator/index.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

/**
 * S5 (face verification) on a seeded city: the ground truth's pass / fail / unusable counts are
 * recomputed here from the loaded domains — the grid's visits of Q with their probe templates and
 * the registry's reference templates, by plaintext cosine at the documented threshold
 * (docs/data.md) — and the encrypted comparison (sandbox/crypto/face-match) run over a sample of
 * the loaded pairs gives the truth's per-visit outcomes.
 */
const PERSONS = 10_000;
const SEED = 's5-faces';
const AS_OF = '2026-06-30';

interface VisitRow { visit_id: string; id_number: string; district_code: string; face_model_id: string | null; face_template: Uint8Array | null; face_unusable: string | null; photo_ref: string | null }
interface RefRow { id_number: string; model_id: string | null; template: Uint8Array | null }

const int8 = (b: Uint8Array): Int8Array => new Int8Array(b.buffer, b.byteOffset, b.byteLength);

describe('S5 ground truth over the loaded domains', () => {
  let lab: TestLab;
  let domains: Record<DomainId, Database>;
  let truth: GroundTruth;
  let dir: string;
  let visits: VisitRow[];
  const refs = new Map<string, RefRow>();

  beforeAll(async () => {
    lab = await createPgTestLab();
    domains = {} as Record<DomainId, Database>;
    for (const d of DOMAIN_IDS) domains[d] = await lab.domain(d);
    dir = mkdtempSync(join(tmpdir(), 'lab-s5-'));
    await seedCity({ persons: PERSONS, seed: SEED, asOf: AS_OF, domains, truthFile: join(dir, 'truth.json') });
    truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as GroundTruth;
    const q = truth.quarter;
    visits = (await sql<VisitRow>`SELECT visit_id::text AS visit_id, id_number, district_code, face_model_id, face_template, face_unusable, photo_ref
      FROM visit WHERE visited_on >= ${q.from}::date AND visited_on <= ${q.through}::date ORDER BY visit_id`.execute(domains.grid.kysely)).rows;
    const r = await sql<RefRow>`SELECT id_number, model_id, template FROM reference_photo`.execute(domains.registry.kysely);
    for (const row of r.rows) refs.set(row.id_number, row);
  }, 300_000);

  afterAll(async () => {
    await lab?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The definition of docs/data.md, written out here on the loaded rows. */
  function outcomeOf(v: VisitRow): 'pass' | 'fail' | 'unusable' {
    if (!v.face_template) return 'unusable';
    const ref = refs.get(v.id_number);
    if (!ref?.template || ref.model_id !== v.face_model_id) return 'unusable';
    const c = cosineInt8(int8(v.face_template), int8(ref.template));
    return Number.isNaN(c) ? 'unusable' : c >= SYNTHETIC_THRESHOLD ? 'pass' : 'fail';
  }

  it('stores int8 synthetic-128 templates as bytea, with a reason for every visit without one', async () => {
    expect(visits.length).toBeGreaterThan(500);
    for (const v of visits) {
      if (v.face_template) {
        expect(v.face_model_id).toBe(SYNTHETIC_MODEL_ID);
        expect(v.face_template.byteLength).toBe(128);
        expect(v.face_unusable).toBeNull();
      } else {
        expect(v.face_unusable).not.toBeNull();
        expect(v.face_unusable === 'no-photo').toBe(v.photo_ref === null);
      }
    }
    const [row] = (await sql<{ n: number; with: number }>`SELECT count(*)::int AS n, count(template)::int AS with FROM reference_photo`.execute(domains.registry.kysely)).rows;
    expect(row!.with / row!.n).toBeGreaterThan(0.95);
  });

  it('the truth equals a plaintext recomputation: counts by district and the visit lists', () => {
    const byDistrict: Record<string, { pass: number; fail: number; unusable: number }> = {};
    const fail: number[] = [], unusable: number[] = [];
    for (const v of visits) {
      const o = outcomeOf(v);
      (byDistrict[v.district_code] ??= { pass: 0, fail: 0, unusable: 0 })[o]++;
      if (o === 'fail') fail.push(Number(v.visit_id));
      if (o === 'unusable') unusable.push(Number(v.visit_id));
    }
    expect(truth.s5.byDistrict).toEqual(byDistrict);
    expect(truth.s5.failVisitIds).toEqual(fail.sort((a, b) => a - b));
    expect(truth.s5.unusableVisitIds).toEqual(unusable.sort((a, b) => a - b));
    expect(truth.s5.total.pass + truth.s5.total.fail + truth.s5.total.unusable).toBe(visits.length);
    expect(truth.s5.total.fail).toBeGreaterThan(0);
    expect(truth.s5.modelId).toBe(SYNTHETIC_MODEL_ID);
    expect(truth.s5.threshold).toBe(SYNTHETIC_THRESHOLD);
  });

  it('keeps every generated pair at least the synthetic margin away from the threshold', () => {
    for (const v of visits) {
      const ref = refs.get(v.id_number);
      if (!v.face_template || !ref?.template) continue;
      expect(Math.abs(cosineInt8(int8(v.face_template), int8(ref.template)) - SYNTHETIC_THRESHOLD)).toBeGreaterThanOrEqual(SYNTHETIC_MARGIN);
    }
  });

  it('the encrypted comparison over a sample of loaded pairs gives the truth\'s per-visit outcomes', async () => {
    const failSet = new Set(truth.s5.failVisitIds);
    const unusableSet = new Set(truth.s5.unusableVisitIds);
    const truthOf = (v: VisitRow) => (failSet.has(Number(v.visit_id)) ? 'fail' : unusableSet.has(Number(v.visit_id)) ? 'unusable' : 'pass');
    // every fail, and the first of the others up to 160 comparisons; the probe holder sends only visits with a template
    const withProbe = visits.filter((v) => v.face_template);
    const sample = [...withProbe.filter((v) => truthOf(v) === 'fail'), ...withProbe.filter((v) => truthOf(v) !== 'fail')].slice(0, 160);
    expect(sample.some((v) => truthOf(v) === 'unusable')).toBe(true);
    const lookup = (keys: readonly string[]): (ReferenceTemplate | undefined)[] => keys.map((k) => {
      const r = refs.get(k);
      return r?.template && r.model_id ? { modelId: r.model_id, template: int8(r.template) } : undefined;
    });
    const { outcomes } = await compareBatch({
      jobId: 's5-sample', modelId: SYNTHETIC_MODEL_ID, dimension: 128, threshold: SYNTHETIC_THRESHOLD,
      probes: sample.map((v) => ({ key: v.id_number, template: int8(v.face_template!) })), lookup,
    });
    expect(outcomes).toEqual(sample.map(truthOf));
  }, 120_000);
});
