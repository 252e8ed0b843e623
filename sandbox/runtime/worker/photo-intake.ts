import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import { quantizeTemplate, templateToBytes } from '../../crypto/face-match/templates.ts';
import { isValidIdNumber } from '../../domains/generator/id-number.ts';
import { LabError, isLabError, t } from '../../errors/index.ts';
import type { Database } from '../../store/database.ts';

/**
 * Photo intake inside the grid domain (S5): a photo taken in the field arrives through the grid
 * queue, is decoded and analysed here (the face engine of `sandbox/face`), and stored with its
 * template, quality and a new visit row in one transaction. Nothing of the photo goes back: the
 * answer is the new photo and visit ids, or a user error naming the field (I1, I3).
 */

/** Largest photo accepted, bytes (the server checks it before reading the body; checked again here). */
export const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

/** Purposes of a visit (catalog `grid.visit.purpose`). */
export const VISIT_PURPOSES = ['routine', 'registration', 'care', 'verification'] as const;

/** The queue payload of a field photo; `kind` tells it apart from a pipeline stage. */
export const photoPayloadSchema = z.object({
  kind: z.literal('field-photo'),
  /** The image file, base64. */
  photo: z.string().max(Math.ceil(MAX_PHOTO_BYTES / 3) * 4 + 4),
  idNumber: z.string().max(32),
  visit: z.object({
    gridCode: z.string().regex(/^[0-9]{1,32}$/),
    visitedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    purpose: z.enum(VISIT_PURPOSES),
  }).strict(),
  /** User name of who took the photo (stored as the visit's worker id). */
  capturedBy: z.string().min(1).max(64),
}).strict();

export type PhotoPayload = z.infer<typeof photoPayloadSchema>;

/** A queue payload that says it is a field photo (then it is checked against `photoPayloadSchema`). */
export const isPhotoMessage = (payload: unknown): boolean =>
  typeof payload === 'object' && payload !== null && (payload as { kind?: unknown }).kind === 'field-photo';

/** A refusal as the grid worker answers it: the code, its detail and hint (both languages), the field. */
export interface PhotoError {
  readonly code: string;
  readonly detail?: { readonly zh: string; readonly en: string };
  readonly hint?: { readonly zh: string; readonly en: string };
  readonly field?: string;
}

/** What the grid worker answers for a photo. */
export type PhotoOutcome =
  | { readonly ok: true; readonly photoId: string; readonly visitId: string }
  | { readonly ok: false; readonly error: PhotoError };

/** The face engine as the intake uses it (sandbox/face `FaceEngine`). */
export interface FaceAnalyser {
  readonly model: { readonly id: string };
  analyse(image: Uint8Array): Promise<
    | { readonly kind: 'face'; readonly template: Float32Array; readonly box: { readonly x: number; readonly y: number; readonly w: number; readonly h: number }; readonly landmarks: readonly (readonly [number, number])[]; readonly quality: object }
    | { readonly kind: 'unusable'; readonly reason: string; readonly detail: { readonly zh: string; readonly en: string } }
  >;
}

interface GridIntakeSchema {
  geo_unit: { code: string; level: string; parent_code: string | null };
}

/** The district, street and community of a grid, from the domain's own reference geography. */
async function gridParents(db: Database, gridCode: string): Promise<{ district: string; street: string; community: string } | undefined> {
  const k = db.kysely as unknown as Kysely<GridIntakeSchema>;
  const chain: { code: string; level: string }[] = [];
  let code: string | null = gridCode;
  for (let i = 0; i < 4 && code !== null; i++) {
    const row: { code: string; level: string; parent_code: string | null } | undefined = await k.selectFrom('geo_unit').select(['code', 'level', 'parent_code']).where('code', '=', code).executeTakeFirst();
    if (!row) return undefined;
    chain.push(row);
    code = row.parent_code;
  }
  const [grid, community, street, district] = chain;
  if (grid?.level !== 'grid' || community?.level !== 'community' || street?.level !== 'street' || district?.level !== 'district') return undefined;
  return { district: district.code, street: street.code, community: community.code };
}

/** Today anywhere on Earth (UTC+14): a visit dated today in Guangzhou (UTC+8) is never "in the future" here. */
const latestVisitDate = (now: Date): string => new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);

function isRealDate(ymd: string): boolean {
  const d = new Date(`${ymd}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === ymd;
}

const errorOf = (e: LabError): PhotoError => ({ code: e.code, ...(e.detail ? { detail: e.detail } : {}), ...(e.hint ? { hint: e.hint } : {}), ...(e.field ? { field: e.field } : {}) });

/**
 * Checks, analyses and stores one photo. User errors (bad ID number, not an image, no usable face,
 * unknown grid) are answers with nothing stored; anything else is thrown (the queue retries).
 */
export async function intakePhoto(db: Database, engine: () => Promise<FaceAnalyser>, p: PhotoPayload, now: Date = new Date()): Promise<PhotoOutcome> {
  try {
    // The coordinator checked these already; the domain does not rely on it.
    if (!isValidIdNumber(p.idNumber)) {
      throw new LabError('LAB-E150', { field: 'idNumber', detail: t('校验位或出生日期不符合 GB 11643', 'the check character or birth date does not follow GB 11643') });
    }
    if (!isRealDate(p.visit.visitedOn) || p.visit.visitedOn > latestVisitDate(now)) {
      throw new LabError('LAB-E153', { field: 'visit.visitedOn', detail: t('走访日期须为不晚于今天的有效日期', 'the visit date must be a real date, not in the future') });
    }
    const image = Buffer.from(p.photo, 'base64');
    if (image.length === 0) throw new LabError('LAB-E152', { field: 'photo', detail: t('照片为空', 'the photo is empty') });
    if (image.length > MAX_PHOTO_BYTES) throw new LabError('LAB-E151', { field: 'photo', detail: t('上限 5 MB', 'the limit is 5 MB') });
    const geo = await gridParents(db, p.visit.gridCode);
    if (!geo) throw new LabError('LAB-E153', { field: 'visit.gridCode', detail: t('未知的网格编码', 'unknown grid code') });

    const face = await engine();
    let analysis: Awaited<ReturnType<FaceAnalyser['analyse']>>;
    try {
      analysis = await face.analyse(new Uint8Array(image.buffer, image.byteOffset, image.length));
    } catch (e) {
      // Not an image, corrupt, too many pixels: the engine's user error, about the photo field.
      if (isLabError(e) && e.kind === 'user') throw new LabError(e.code, { field: 'photo', ...(e.detail ? { detail: e.detail } : {}), cause: e });
      throw e;
    }
    if (analysis.kind === 'unusable') {
      throw new LabError('LAB-E152', { field: 'photo', detail: analysis.detail, hint: t(`原因：${analysis.reason}`, `reason: ${analysis.reason}`) });
    }
    const a = analysis;
    const template = Buffer.from(a.template.buffer, a.template.byteOffset, a.template.byteLength);
    // The visit carries the int8 template too (migration 0006), so face verification (face-verify) compares field photos like any visit;
    // the engine's model id is one the comparison library takes (sandbox/face checks it when the engine opens), stored as it is.
    const visitTemplate = Buffer.from(templateToBytes(quantizeTemplate(a.template)));
    const stored = await db.kysely.transaction().execute(async (trx) => {
      const visit = await sql<{ id: string }>`SELECT nextval('field_visit_id')::text AS id`.execute(trx);
      const visitId = visit.rows[0]?.id;
      if (!visitId) throw new Error('no visit id');
      const photo = await sql<{ photo_id: string }>`
        INSERT INTO field_photo (visit_id, id_number, captured_by, captured_at, image, image_sha256, model_id, template, face_box, landmarks, quality)
        VALUES (${visitId}::bigint, ${p.idNumber}, ${p.capturedBy}, ${now.toISOString()}::timestamptz, ${image}, ${createHash('sha256').update(image).digest('hex')},
                ${face.model.id}, ${template}, ${JSON.stringify(a.box)}::jsonb, ${JSON.stringify(a.landmarks)}::jsonb, ${JSON.stringify(a.quality)}::jsonb)
        RETURNING photo_id::text AS photo_id`.execute(trx);
      const photoId = photo.rows[0]?.photo_id;
      if (!photoId) throw new Error('no photo id');
      // No address is taken in the field capture: address_key stays empty (it joins nothing).
      await sql`
        INSERT INTO visit (visit_id, id_number, address_key, district_code, street_code, community_code, grid_code, visited_on, worker_id, purpose, photo_ref, face_model_id, face_template)
        VALUES (${visitId}::bigint, ${p.idNumber}, '', ${geo.district}, ${geo.street}, ${geo.community}, ${p.visit.gridCode},
                ${p.visit.visitedOn}::date, ${p.capturedBy}, ${p.visit.purpose}, ${`field_photo:${photoId}`}, ${face.model.id}, ${visitTemplate})`.execute(trx);
      return { photoId, visitId };
    });
    return { ok: true, ...stored };
  } catch (e) {
    if (isLabError(e) && e.kind === 'user') return { ok: false, error: errorOf(e) };
    throw e;
  }
}
