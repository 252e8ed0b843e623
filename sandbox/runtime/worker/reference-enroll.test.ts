import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOf, readFaceLabels, type CaptureVariant } from '../../../tests/support/face-eval.ts';
import { noFacePhoto, severalFacesPhoto, truncatedJpeg } from '../../../tests/support/face-photos.ts';
import { cosineInt8, quantizeTemplate } from '../../crypto/face-match/templates.ts';
import { DOMAIN_MIGRATIONS } from '../../domains/migrations/domain.migrations.ts';
import { makeIdNumber } from '../../domains/generator/id-number.ts';
import { isLabError } from '../../errors/index.ts';
import { openFaceEngine, type FaceEngine } from '../../face/index.ts';
import type { Database } from '../../store/database.ts';
import { migrate } from '../../store/migrate.ts';
import { openPGlite } from '../../store/pglite.database.ts';
import { referenceLookup } from './face-step.ts';
import { enrollReferences, type ReferenceInput } from './reference-enroll.ts';

/**
 * Reference enrollment in the registry domain on an embedded (PGlite) registry database with the
 * real face engine: migration 0008 applies; photos cut at test time from the package photos are
 * stored with their int8 templates where the face-compare step's lookup finds them; every refusal
 * stores nothing, even when the other photos of the enrollment were good.
 */
describe('reference enrollment in the registry domain (PGlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-reference-enroll-'));
  let db: Database;
  let engine: FaceEngine;
  const faces = readFaceLabels().faces;
  const plain: CaptureVariant = { name: 'plain', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 92 };
  const face = (identity: string) => {
    const f = faces.find((x) => x.identity === identity);
    if (!f) throw new Error(identity);
    return f;
  };
  const alice = makeIdNumber('440106', '19880512', 11);
  const bob = makeIdNumber('440104', '19750203', 27);
  const stranger = makeIdNumber('440111', '19990101', 5); // valid, but not a person of this registry
  const input = async (idNumber: string, identity: string, source = `${identity}.jpg`): Promise<ReferenceInput> =>
    ({ idNumber, photo: await captureOf(face(identity), plain), source, capturedOn: '2026-05-01' });
  const counts = async () => (await db.readOnlyQuery<{ r: number; i: number }>(
    "SELECT (SELECT count(*) FROM reference_photo WHERE model_id <> 'synthetic-128')::int AS r, (SELECT count(*) FROM reference_image)::int AS i", [], { timeoutMs: 10_000 }))[0];
  const codeOf = async (p: Promise<unknown>) => {
    try { await p; return 'resolved'; } catch (e) { return isLabError(e) ? `${e.code}${e.field ? `@${e.field}` : ''}` : String(e); }
  };

  beforeAll(async () => {
    db = await openPGlite('registry', join(dir, 'registry'));
    const applied = await migrate(db, DOMAIN_MIGRATIONS.registry);
    expect(applied).toContain('0008-reference-photos');
    for (const [i, id] of [alice, bob].entries()) {
      await db.exec(`INSERT INTO person (person_id, id_number, name, sex, birth_date, household_id, household_type, native_region_code, district_code, street_code, community_code, grid_code, address, registered_on, status)
        VALUES (${i + 1}, '${id}', 'n', 'F', '1988-05-12', 1, 'family', '440106', '440106', '440106001', '440106001001', '440106001001001', 'a', '2010-01-01', 'active');
        INSERT INTO reference_photo (id_number, photo_ref, captured_on, model_id, template) VALUES ('${id}', 'synthetic', '2020-01-01', 'synthetic-128', '\\x01');`);
    }
    engine = await openFaceEngine();
  }, 120_000);
  afterAll(async () => { await engine?.close(); await db?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('stores image and int8 template (model id, 1024 values) where the face-compare lookup finds them', async () => {
    const a = await input(alice, 's3-left');
    const report = await enrollReferences(db, engine, [a, await input(bob, 's6-right')], { enrolledBy: 'registry.op', now: new Date('2026-05-02T03:00:00Z') });
    expect(report).toMatchObject({ modelId: engine.model.id, dimension: 1024, replaced: 0 });
    expect(report.enrolled.map((e) => e.source)).toEqual(['s3-left.jpg', 's6-right.jpg']);
    expect(await counts()).toEqual({ r: 2, i: 2 });
    const row = (await db.readOnlyQuery<{ photo_ref: string; captured_on: string; n: number; by: string; sha: string }>(
      `SELECT p.photo_ref, p.captured_on, length(p.template)::int AS n, i.enrolled_by AS by, i.image_sha256 AS sha
       FROM reference_photo p JOIN reference_image i ON p.photo_ref = 'reference_image:' || i.photo_id WHERE p.id_number = $1 AND p.model_id = $2`,
      [alice, engine.model.id], { timeoutMs: 10_000 }))[0];
    expect(row).toMatchObject({ photo_ref: `reference_image:${report.enrolled[0]?.photoId}`, captured_on: '2026-05-01', n: 1024, by: 'registry.op' });
    expect(row?.sha).toMatch(/^[0-9a-f]{64}$/);
    // The lookup the registry answers face-compare steps with: the engine's template, quantised as face-match expects.
    const [found, none] = await referenceLookup(db)([alice, stranger], engine.model.id);
    expect(none).toBeUndefined();
    expect(found?.modelId).toBe(engine.model.id);
    const direct = await engine.analyse(a.photo);
    if (direct.kind !== 'face' || !found) throw new Error('no face');
    expect(Array.from(found.template)).toEqual(Array.from(quantizeTemplate(direct.template)));
    // The synthetic reference of the same person is still there, for its own model.
    expect((await referenceLookup(db)([alice], 'synthetic-128'))[0]?.modelId).toBe('synthetic-128');
  }, 60_000);

  it('refuses, storing nothing: invalid or unknown ID number, unusable or broken photo, a person twice, a model enrolled already', async () => {
    const good = await input(makeIdNumber('440106', '19880512', 11), 's5-back'); // alice again (enrolled above)
    const bad = async (p: Promise<ReferenceInput[]>) => codeOf(p.then((items) => enrollReferences(db, engine, items, { enrolledBy: 'registry.op', replace: true })));
    const broken = { ...(await input(bob, 's2-right')), idNumber: bob.slice(0, 17) + (bob.endsWith('1') ? '2' : '1') };
    expect(await bad(Promise.all([input(alice, 's5-back'), Promise.resolve(broken)]))).toBe('LAB-E150@idNumber');
    expect(await bad(Promise.all([input(alice, 's5-back'), input(stranger, 's2-right')]))).toBe('LAB-E157@idNumber');
    expect(await bad(Promise.all([input(alice, 's5-back'), noFacePhoto().then((p) => ({ idNumber: bob, photo: p, source: 'wall.jpg', capturedOn: '2026-05-01' }))]))).toBe('LAB-E158@photo');
    expect(await bad(Promise.all([input(alice, 's5-back'), Promise.resolve({ idNumber: bob, photo: severalFacesPhoto(), source: 'group.jpg', capturedOn: '2026-05-01' })]))).toBe('LAB-E158@photo');
    expect(await bad(Promise.all([input(alice, 's5-back'), truncatedJpeg().then((p) => ({ idNumber: bob, photo: p, source: 'cut.jpg', capturedOn: '2026-05-01' }))]))).toBe('LAB-E140@photo');
    expect(await bad(Promise.all([input(alice, 's5-back'), input(alice, 's2-right')]))).toBe('LAB-E159@idNumber');
    // Without --replace, a person who has a reference of the engine's model is refused before any photo is analysed.
    expect(await codeOf(enrollReferences(db, engine, [good], { enrolledBy: 'registry.op' }))).toBe('LAB-E159@idNumber');
    expect(await counts()).toEqual({ r: 2, i: 2 });
    // The file is named in the message, the ID number never.
    const e = await enrollReferences(db, engine, [{ idNumber: bob, photo: severalFacesPhoto(), source: 'group.jpg', capturedOn: '2026-05-01' }], { enrolledBy: 'x', replace: true })
      .then(() => undefined, (x: unknown) => x);
    if (!isLabError(e)) throw new Error('expected a LabError');
    expect(e.messageIn('en')).toContain('group.jpg');
    expect(JSON.stringify([e.messageIn('en'), e.messageIn('zh-CN'), e.hint])).not.toContain(bob);
  }, 60_000);

  it('replaces a person\u2019s reference of the model with --replace (the old image goes too); a failing write keeps the old one', async () => {
    await db.exec('ALTER TABLE reference_photo ADD CONSTRAINT test_no_new_refs CHECK (captured_on < DATE \'2026-01-01\' OR model_id = \'x\') NOT VALID;');
    expect(await codeOf(enrollReferences(db, engine, [await input(alice, 's5-back')], { enrolledBy: 'registry.op', replace: true }))).not.toBe('resolved');
    await db.exec('ALTER TABLE reference_photo DROP CONSTRAINT test_no_new_refs;');
    expect(await counts()).toEqual({ r: 2, i: 2 });
    const before = await referenceLookup(db)([alice], engine.model.id);
    const report = await enrollReferences(db, engine, [await input(alice, 's5-back')], { enrolledBy: 'registry.op', replace: true });
    expect(report.replaced).toBe(1);
    expect(await counts()).toEqual({ r: 2, i: 2 });
    const after = await referenceLookup(db)([alice], engine.model.id);
    if (!before[0] || !after[0]) throw new Error('no reference');
    expect(cosineInt8(before[0].template, after[0].template)).toBeLessThan(0.6); // another face now (s5-back, not s3-left)
  }, 60_000);
});
