import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIdNumber } from '../../../sandbox/domains/generator/id-number.ts';
import type { ApiClient } from '../../support/api-client.ts';
import { noFacePhoto, severalFacesPhoto, singleFacePhoto, truncatedJpeg } from '../../support/face-photos.ts';
import { startServedLab, type ServedLab } from '../../support/served-lab.ts';

/**
 * Field photos (S5) through the HTTP API on real Postgres: the grid domain's steward uploads a
 * photo; the grid worker analyses it with the face engine and stores photo, template and a visit
 * in the grid database. Bad photos and bad fields are 4xx with a LAB-E code naming the field, and
 * nothing is stored (checked in the grid database itself); the control database keeps only audit
 * entries, without the image or the ID number.
 */
describe('POST /api/domains/{id}/photos', () => {
  let served: ServedLab;
  let steward: ApiClient;
  let gridCode = '';
  const idNumber = makeIdNumber('440106', '19900101', 123);
  const b64 = (b: Buffer) => b.toString('base64');
  const body = (photo: string, over: Record<string, unknown> = {}) => ({ photo, idNumber, visit: { gridCode, visitedOn: '2026-06-30', purpose: 'verification' }, ...over });
  const stored = async () => {
    const photos = await sql<{ n: string }>`SELECT count(*)::text AS n FROM field_photo`.execute(served.domains.grid.kysely);
    const visits = await sql<{ n: string }>`SELECT count(*)::text AS n FROM visit WHERE visit_id >= 1000000000000`.execute(served.domains.grid.kysely);
    return { photos: Number(photos.rows[0]?.n), visits: Number(visits.rows[0]?.n) };
  };

  beforeAll(async () => {
    served = await startServedLab({ persons: 10_000, seed: 'photos', password: 'photos-password-0' });
    steward = await served.signIn('steward.grid');
    const grid = await sql<{ code: string }>`SELECT code FROM geo_unit WHERE level = 'grid' ORDER BY code LIMIT 1`.execute(served.domains.grid.kysely);
    gridCode = grid.rows[0]?.code ?? '';
  }, 240_000);
  afterAll(async () => { await served?.close(); });

  it('stores an accepted photo, its template and a visit in the grid domain, and answers only ids', async () => {
    const res = await steward.post('/api/domains/grid/photos', body(b64(await singleFacePhoto())));
    const answer = await res.json() as Record<string, unknown>;
    expect(res.status, JSON.stringify(answer)).toBe(201);
    expect(Object.keys(answer).sort()).toEqual(['outcome', 'photoId', 'visitId']);
    expect(answer['outcome']).toBe('accepted');
    const row = await sql<{ id_number: string; bytes: number; dims: number; visit_id: string; captured_by: string }>`
      SELECT id_number, length(image) AS bytes, length(template) / 4 AS dims, visit_id::text, captured_by FROM field_photo WHERE photo_id = ${answer['photoId']}::bigint`.execute(served.domains.grid.kysely);
    expect(row.rows[0]).toMatchObject({ id_number: idNumber, visit_id: answer['visitId'], captured_by: 'steward.grid' });
    expect(row.rows[0]?.dims).toBeGreaterThanOrEqual(128);
    const visit = await sql<{ grid_code: string; photo_ref: string; purpose: string; community_code: string; template_bytes: number }>`
      SELECT grid_code, photo_ref, purpose, community_code, length(face_template) AS template_bytes FROM visit WHERE visit_id = ${answer['visitId']}::bigint`.execute(served.domains.grid.kysely);
    expect(visit.rows[0]).toMatchObject({ grid_code: gridCode, photo_ref: `field_photo:${String(answer['photoId'])}`, purpose: 'verification' });
    expect(gridCode.startsWith(visit.rows[0]?.community_code ?? 'x')).toBe(true);
    expect(visit.rows[0]?.template_bytes).toBe(row.rows[0]?.dims); // the int8 template face-verify compares
    expect(await stored()).toEqual({ photos: 1, visits: 1 });

    // The control database: one audit entry, no image, no ID number.
    const audit = await served.lab.control.kysely.selectFrom('audit_entry').selectAll().where('action', '=', 'photo.upload').execute();
    expect(audit).toHaveLength(1);
    const text = JSON.stringify(audit);
    expect(text).toContain('"outcome":"accepted"');
    expect(text).not.toContain(idNumber);
    expect(text).not.toContain(idNumber.slice(0, 14));
  }, 120_000);

  const bad: [string, () => Promise<unknown>, number, string, string][] = [
    ['no face', async () => body(b64(await noFacePhoto())), 422, 'LAB-E152', 'photo'],
    ['two faces', async () => body(b64(severalFacesPhoto())), 422, 'LAB-E152', 'photo'],
    ['not an image', async () => body(b64(Buffer.from('这不是图片 — just some text, not an image at all'.repeat(20)))), 422, 'LAB-E140', 'photo'],
    ['a corrupt (truncated) JPEG', async () => body(b64(await truncatedJpeg())), 422, 'LAB-E140', 'photo'],
    ['a huge file (6 MB)', async () => body(b64(Buffer.alloc(6 * 1024 * 1024, 7))), 413, 'LAB-E151', 'photo'],
    ['a wrong ID check character', async () => body(b64(await singleFacePhoto()), { idNumber: idNumber.slice(0, 17) + (idNumber.endsWith('1') ? '2' : '1') }), 422, 'LAB-E150', 'idNumber'],
    ['an ID number with an impossible birth date', async () => body(b64(await singleFacePhoto()), { idNumber: makeIdNumber('440106', '19901301', 5) }), 422, 'LAB-E150', 'idNumber'],
    ['an unknown grid', async () => ({ ...body(b64(await singleFacePhoto())), visit: { gridCode: '999999999999999', visitedOn: '2026-06-30', purpose: 'routine' } }), 422, 'LAB-E153', 'visit.gridCode'],
    ['a visit date in the future', async () => ({ ...body(b64(await singleFacePhoto())), visit: { gridCode, visitedOn: '2999-01-01', purpose: 'routine' } }), 422, 'LAB-E153', 'visit.visitedOn'],
    ['a photo that is not base64', async () => body('%%% not base64 %%%'), 422, 'LAB-E003', 'photo'],
  ];
  for (const [name, make, status, code, field] of bad) {
    it(`refuses ${name}: ${status} ${code} on ${field}, nothing stored`, async () => {
      const before = await stored();
      const res = await steward.post('/api/domains/grid/photos', await make());
      const answer = await res.json() as { code: string; field?: string; message: string };
      expect({ status: res.status, code: answer.code, field: answer.field }).toEqual({ status, code, field });
      expect(answer.message.length).toBeGreaterThan(4);
      expect(await stored()).toEqual(before);
    }, 60_000);
  }

  it('refuses an oversized body by its Content-Length before reading it', async () => {
    const res = await fetch(`${served.baseUrl}/api/domains/grid/photos`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) },
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{"photo":"')); } }), duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('LAB-E151');
  });

  it('lets only the grid domain’s stewards upload, and only to the grid domain', async () => {
    const photo = b64(await singleFacePhoto());
    const before = await stored();
    for (const [username, domain, status, code] of [
      ['analyst', 'grid', 403, 'LAB-E137'], ['officer', 'grid', 403, 'LAB-E137'], ['researcher', 'grid', 403, 'LAB-E137'],
      ['admin', 'grid', 403, 'LAB-E137'], ['steward.registry', 'grid', 403, 'LAB-E137'], ['steward.grid', 'registry', 403, 'LAB-E137'],
      ['steward.grid', 'nosuch', 404, 'LAB-E004'],
    ] as const) {
      const api = await served.signIn(username);
      const res = await api.post(`/api/domains/${domain}/photos`, body(photo));
      expect({ username, domain, status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ username, domain, status, code });
    }
    const anon = await fetch(`${served.baseUrl}/api/domains/grid/photos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(photo)) });
    expect(anon.status).toBe(401);
    expect(await stored()).toEqual(before);
  }, 60_000);

  it('audits every decided upload with its outcome, never the ID number', async () => {
    const rows = await served.lab.control.kysely.selectFrom('audit_entry').selectAll().where('action', '=', 'photo.upload').execute();
    const outcomes = rows.map((r) => (r.detail as { outcome?: string } | null)?.outcome);
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    // No face, two faces, not an image, corrupt; the 6 MB body never reached the route (413 before the session is read into a decision).
    expect(outcomes.filter((o) => o === 'unusable')).toHaveLength(4);
    // Two bad ID numbers, an unknown grid, a future date, a photo not in base64. Denied requests are not photo.upload entries.
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(5);
    expect(JSON.stringify(rows)).not.toContain(idNumber);
  });
});
