import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { checkModelId, quantizeTemplate, templateToBytes } from '../../crypto/face-match/templates.ts';
import { isValidIdNumber } from '../../domains/generator/id-number.ts';
import { LabError, isLabError, t } from '../../errors/index.ts';
import type { Database } from '../../store/database.ts';
import type { FaceAnalyser } from './photo-intake.ts';

/**
 * Reference enrollment inside the registry domain (S5): the registry's operator hands reference
 * photos (ID-card photos) to `npm run lab -- face enroll`, which runs with the registry's own database
 * credentials only. Each photo is analysed here with the face engine (sandbox/face) and stored with
 * its int8 template in `reference_photo` (the gallery face-verify compares against) and the image in
 * `reference_image` (migration 0008). Nothing leaves the domain: no queue, no coordinator, no
 * control database. All or nothing: every photo is checked and analysed first, then every row is
 * written in one transaction; any refusal stores nothing.
 */

/** One reference photo to enroll. */
export interface ReferenceInput {
  readonly idNumber: string;
  /** The image file's bytes. */
  readonly photo: Uint8Array;
  /** Where the photo came from (a file name), named in errors; never the ID number. */
  readonly source: string;
  /** The day the photo was taken (YYYY-MM-DD): `reference_photo.captured_on`; the newest reference of a model wins. */
  readonly capturedOn: string;
}

export interface EnrollOptions {
  /** Who enrolls (the operator's user name), kept with the image. */
  readonly enrolledBy: string;
  /** Replace the person's earlier references of the same model instead of refusing (LAB-E159). */
  readonly replace?: boolean;
  readonly now?: Date;
}

export interface EnrollReport {
  readonly modelId: string;
  readonly dimension: number;
  /** One per input, in order: the source and the new `reference_image` id. */
  readonly enrolled: readonly { readonly source: string; readonly photoId: string }[];
  /** References of the same model that were replaced (with `replace`). */
  readonly replaced: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isRealDate = (ymd: string) => DATE.test(ymd) && new Date(`${ymd}T00:00:00Z`).toISOString().slice(0, 10) === ymd;

interface Analysed {
  readonly input: ReferenceInput;
  readonly template: Int8Array;
  readonly box: object;
  readonly landmarks: object;
  readonly quality: object;
}

/** The input checks that need no image: ID numbers, dates, one photo per person. */
function checkInputs(inputs: readonly ReferenceInput[]): void {
  if (inputs.length === 0) throw new LabError('LAB-E030', { detail: t('没有要登记的证件照', 'no reference photo to enroll') });
  const seen = new Map<string, string>();
  for (const r of inputs) {
    if (!isValidIdNumber(r.idNumber)) {
      throw new LabError('LAB-E150', { field: 'idNumber', detail: t(`${r.source}：身份证号码的校验位或出生日期不符合 GB 11643`, `${r.source}: the ID number's check character or birth date does not follow GB 11643`) });
    }
    if (!isRealDate(r.capturedOn)) {
      throw new LabError('LAB-E030', { field: 'capturedOn', detail: t(`${r.source}：采集日期须为 YYYY-MM-DD 的有效日期`, `${r.source}: the capture date must be a real date, YYYY-MM-DD`) });
    }
    const other = seen.get(r.idNumber);
    if (other !== undefined) {
      throw new LabError('LAB-E159', { field: 'idNumber', detail: t(`${other} 与 ${r.source} 是同一人：一次登记每人一张`, `${other} and ${r.source} are the same person: one photo per person in one enrollment`) });
    }
    seen.set(r.idNumber, r.source);
  }
}

/** Decodes, detects, checks quality and embeds each photo; the first unusable one refuses the whole enrollment. */
async function analyseAll(engine: FaceAnalyser, inputs: readonly ReferenceInput[]): Promise<Analysed[]> {
  const out: Analysed[] = [];
  for (const input of inputs) {
    let a: Awaited<ReturnType<FaceAnalyser['analyse']>>;
    try {
      a = await engine.analyse(input.photo);
    } catch (e) {
      // Not an image, corrupt, too large: the engine's own code, naming the file.
      if (isLabError(e) && e.kind === 'user') {
        throw new LabError(e.code, { field: 'photo', detail: t(`${input.source}：${e.detail?.zh ?? e.messageIn('zh-CN')}`, `${input.source}: ${e.detail?.en ?? e.messageIn('en')}`), cause: e });
      }
      throw e;
    }
    if (a.kind === 'unusable') {
      throw new LabError('LAB-E158', {
        field: 'photo', detail: t(`${input.source}：${a.detail.zh}`, `${input.source}: ${a.detail.en}`),
        hint: t(`原因：${a.reason}。证件照须只有一张清晰的正脸`, `reason: ${a.reason}. A reference photo needs exactly one sharp, frontal face`),
      });
    }
    out.push({ input, template: quantizeTemplate(a.template), box: a.box, landmarks: a.landmarks, quality: a.quality });
  }
  return out;
}

/**
 * Enrolls reference photos into the registry database `db` (migrated to 0008). Refusals (LabError,
 * nothing stored): LAB-E150 an invalid ID number; LAB-E157 an ID number that is not a person of the
 * registry; LAB-E158 a photo without exactly one usable face (LAB-E140 / E141 not an image, too
 * large); LAB-E159 a person given twice, or who already has a reference of the engine's model
 * (unless `replace`). The ID numbers are never part of a message.
 */
export async function enrollReferences(db: Database, engine: FaceAnalyser, inputs: readonly ReferenceInput[], opts: EnrollOptions): Promise<EnrollReport> {
  checkInputs(inputs);
  const modelId = checkModelId(engine.model.id);
  const ids = inputs.map((r) => r.idNumber);
  const persons = new Set((await db.readOnlyQuery<{ id_number: string }>(
    'SELECT DISTINCT id_number FROM person WHERE id_number = ANY($1::text[])', [ids], { timeoutMs: 60_000 })).map((r) => r.id_number));
  const unknown = inputs.filter((r) => !persons.has(r.idNumber)).map((r) => r.source);
  if (unknown.length > 0) {
    throw new LabError('LAB-E157', { field: 'idNumber', detail: t(`人口库中没有这些证件照的持证人：${unknown.join('、')}`, `no person of the registry holds the ID number given for ${unknown.join(', ')}`) });
  }
  if (!opts.replace) {
    const existing = new Set((await db.readOnlyQuery<{ id_number: string }>(
      'SELECT DISTINCT id_number FROM reference_photo WHERE id_number = ANY($1::text[]) AND model_id = $2', [ids, modelId], { timeoutMs: 60_000 })).map((r) => r.id_number));
    const already = inputs.filter((r) => existing.has(r.idNumber)).map((r) => r.source);
    if (already.length > 0) {
      throw new LabError('LAB-E159', {
        field: 'idNumber', detail: t(`已有模型 ${modelId} 的证件照特征：${already.join('、')}`, `a reference of model ${modelId} is enrolled already for ${already.join(', ')}`),
        hint: t('要换成新照片，加 --replace', 'To replace it with the new photo, add --replace'),
      });
    }
  }
  const analysed = await analyseAll(engine, inputs);
  const dimension = analysed[0]?.template.length ?? 0;
  const enrolledAt = (opts.now ?? new Date()).toISOString();
  return db.kysely.transaction().execute(async (trx) => {
    let replaced = 0;
    if (opts.replace) {
      const gone = await sql<{ photo_ref: string | null }>`
        DELETE FROM reference_photo WHERE id_number = ANY(${ids}::text[]) AND model_id = ${modelId} RETURNING photo_ref`.execute(trx);
      replaced = gone.rows.length;
      const images = gone.rows.map((r) => /^reference_image:(\d+)$/.exec(r.photo_ref ?? '')?.[1]).filter((x): x is string => x !== undefined);
      if (images.length > 0) await sql`DELETE FROM reference_image WHERE photo_id = ANY(${images}::bigint[])`.execute(trx);
    }
    const enrolled: { source: string; photoId: string }[] = [];
    for (const a of analysed) {
      const image = Buffer.from(a.input.photo.buffer, a.input.photo.byteOffset, a.input.photo.byteLength);
      const row = await sql<{ photo_id: string }>`
        INSERT INTO reference_image (id_number, enrolled_by, enrolled_at, image, image_sha256, model_id, face_box, landmarks, quality)
        VALUES (${a.input.idNumber}, ${opts.enrolledBy}, ${enrolledAt}::timestamptz, ${image}, ${createHash('sha256').update(image).digest('hex')},
                ${modelId}, ${JSON.stringify(a.box)}::jsonb, ${JSON.stringify(a.landmarks)}::jsonb, ${JSON.stringify(a.quality)}::jsonb)
        RETURNING photo_id::text AS photo_id`.execute(trx);
      const photoId = row.rows[0]?.photo_id;
      if (!photoId) throw new Error('no reference image id');
      await sql`
        INSERT INTO reference_photo (id_number, photo_ref, captured_on, model_id, template)
        VALUES (${a.input.idNumber}, ${`reference_image:${photoId}`}, ${a.input.capturedOn}::date, ${modelId}, ${Buffer.from(templateToBytes(a.template))})`.execute(trx);
      enrolled.push({ source: a.input.source, photoId });
    }
    return { modelId, dimension, enrolled, replaced };
  });
}
