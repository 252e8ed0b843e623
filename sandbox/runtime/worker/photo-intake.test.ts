import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noFacePhoto, singleFacePhoto, truncatedJpeg } from '../../../tests/support/face-photos.ts';
import { DOMAIN_MIGRATIONS } from '../../domains/migrations/domain.migrations.ts';
import { makeIdNumber } from '../../domains/generator/id-number.ts';
import { openFaceEngine, type FaceEngine } from '../../face/index.ts';
import type { Database } from '../../store/database.ts';
import { migrate } from '../../store/migrate.ts';
import { openPGlite } from '../../store/pglite.database.ts';
import { checkModelId } from '../../crypto/face-match/templates.ts';
import { intakePhoto, type PhotoPayload } from './photo-intake.ts';

/**
 * The grid worker's photo intake on an embedded (PGlite) grid database with the real face engine:
 * migration 0005 applies; an accepted photo is stored with its template and a visit; refusals and
 * failures store nothing (one transaction).
 */
describe('photo intake in the grid domain (PGlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-photo-intake-'));
  let db: Database;
  let engine: FaceEngine;
  const idNumber = makeIdNumber('440106', '19920704', 81);
  const payload = async (photo: Buffer): Promise<PhotoPayload> => ({
    kind: 'field-photo', photo: photo.toString('base64'), idNumber, capturedBy: 'steward.grid',
    visit: { gridCode: '440106001001001', visitedOn: '2026-06-30', purpose: 'verification' },
  });
  const counts = async () => {
    const r = await sql<{ p: number; v: number }>`SELECT (SELECT count(*) FROM field_photo)::int AS p, (SELECT count(*) FROM visit)::int AS v`.execute(db.kysely);
    return r.rows[0];
  };

  beforeAll(async () => {
    db = await openPGlite('grid', join(dir, 'grid'));
    const applied = await migrate(db, DOMAIN_MIGRATIONS.grid);
    expect(applied).toContain('0005-field-photos');
    await db.exec(`INSERT INTO geo_unit (code, level, parent_code, name_zh, name_en) VALUES
      ('440106', 'district', NULL, '天河区', 'Tianhe'), ('440106001', 'street', '440106', '街道', 'Street'),
      ('440106001001', 'community', '440106001', '社区', 'Community'), ('440106001001001', 'grid', '440106001001', '网格', 'Grid');`);
    engine = await openFaceEngine();
  }, 120_000);
  afterAll(async () => { await engine?.close(); await db?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('stores an accepted photo, its template and a visit', async () => {
    const out = await intakePhoto(db, async () => engine, await payload(await singleFacePhoto()), new Date('2026-07-01T08:00:00Z'));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(Number(out.visitId)).toBeGreaterThanOrEqual(1e12);
    const row = await sql<{ dims: number; model_id: string; id_number: string; photo_ref: string; community_code: string; district_code: string; visit_dims: number; face_model_id: string }>`
      SELECT length(p.template) / 4 AS dims, p.model_id, p.id_number, v.photo_ref, v.community_code, v.district_code, length(v.face_template) AS visit_dims, v.face_model_id
      FROM field_photo p JOIN visit v ON v.visit_id = p.visit_id WHERE p.photo_id = ${out.photoId}::bigint`.execute(db.kysely);
    expect(row.rows[0]).toEqual({ dims: engine.model.embeddingDim, model_id: engine.model.id, id_number: idNumber, photo_ref: `field_photo:${out.photoId}`, community_code: '440106001001', district_code: '440106', visit_dims: engine.model.embeddingDim, face_model_id: engine.model.id });
    expect(checkModelId(engine.model.id)).toBe(engine.model.id); // the visit's model id is one the comparison library takes
    expect(await counts()).toEqual({ p: 1, v: 1 });
  }, 60_000);

  it('takes a visit dated today in Guangzhou while it is still yesterday in UTC, and refuses a later date', async () => {
    const now = new Date('2026-07-01T17:30:00Z'); // 01:30 on 2 July in Guangzhou
    const today = { ...(await payload(await noFacePhoto())), visit: { gridCode: '440106001001001', visitedOn: '2026-07-02', purpose: 'routine' as const } };
    expect(await intakePhoto(db, async () => engine, today, now)).toMatchObject({ ok: false, error: { code: 'LAB-E152' } }); // got past the date check
    const later = { ...today, visit: { ...today.visit, visitedOn: '2026-07-03' } };
    expect(await intakePhoto(db, async () => engine, later, now)).toMatchObject({ ok: false, error: { code: 'LAB-E153', field: 'visit.visitedOn' } });
  }, 60_000);

  it('refuses a photo without a face, or not an image, and stores nothing', async () => {
    const none = await intakePhoto(db, async () => engine, await payload(await noFacePhoto()));
    expect(none).toMatchObject({ ok: false, error: { code: 'LAB-E152', field: 'photo' } });
    const broken = await intakePhoto(db, async () => engine, await payload(await truncatedJpeg()));
    expect(broken).toMatchObject({ ok: false, error: { code: 'LAB-E140', field: 'photo' } });
    expect(await counts()).toEqual({ p: 1, v: 1 });
  }, 60_000);

  it('keeps nothing when the visit cannot be written (photo and visit in one transaction)', async () => {
    await db.exec(`ALTER TABLE visit ADD CONSTRAINT test_no_new_visits CHECK (visit_id < 0) NOT VALID;`);
    await expect(intakePhoto(db, async () => engine, await payload(await singleFacePhoto()))).rejects.toThrow();
    expect(await counts()).toEqual({ p: 1, v: 1 });
    await db.exec(`ALTER TABLE visit DROP CONSTRAINT test_no_new_visits;`);
  }, 60_000);
});
