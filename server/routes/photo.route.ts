import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { MAX_PHOTO_BYTES, VISIT_PURPOSES } from '../../sandbox/runtime/worker/photo-intake.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import type { BodyLimitRoute } from '../middleware/body-limit/index.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { uploadFieldPhoto } from '../services/photo.service.ts';
import { ErrorBodySchema, SESSION_AND_CSRF_SECURITY, errors } from './common.schema.ts';

/** Base64 length of the largest photo. */
const MAX_PHOTO_BASE64 = Math.ceil(MAX_PHOTO_BYTES / 3) * 4;

/**
 * The body limit of the photo route: the largest photo in base64 plus room for the other fields,
 * checked by Content-Length or while the body streams in (never read whole when too large).
 */
export const PHOTO_BODY_LIMIT: BodyLimitRoute = {
  path: /^\/api\/domains\/[^/]+\/photos$/,
  maxBytes: MAX_PHOTO_BASE64 + 16 * 1024,
  tooLarge: () => new LabError('LAB-E151', { field: 'photo', detail: t('上限 5 MB', 'the limit is 5 MB') }),
};

const DomainParam = z.object({ id: z.string().regex(/^[a-z]{1,32}$/, 'a domain id').openapi({ param: { name: 'id', in: 'path' }, example: 'grid' }) });

const PhotoUploadSchema = z.object({
  photo: z.string().min(1).max(MAX_PHOTO_BASE64).openapi({ format: 'byte', description: 'The image file (JPEG, PNG or WebP) in base64, at most 5 MB before encoding' }),
  idNumber: z.string().max(32).openapi({ example: '440106199001011234', description: 'The ID number read from the card (GB 11643, check character verified); stored only inside the domain' }),
  visit: z.object({
    gridCode: z.string().regex(/^\d{1,32}$/, 'a grid code of the catalog geography').openapi({ description: 'The grid of the visit (its community, street and district follow)' }),
    visitedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD').openapi({ example: '2026-06-30' }),
    purpose: z.enum(VISIT_PURPOSES).default('verification'),
  }).strict(),
}).strict().openapi('FieldPhotoUpload');

const err = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBodySchema } } });

export const uploadPhotoRoute = createRoute({
  method: 'post', path: '/api/domains/{id}/photos', tags: ['photos'],
  summary: 'Upload a photo taken in the field (S5) to a domain: its worker checks the face and stores photo, template and visit there',
  description: 'JSON with the image in base64 (the body is at most ≈ 6.7 MB: checked before it is read). The coordinator keeps only an audit entry (who, when, domain, outcome); the answer never carries a template or a score. Policy `photo.upload` on the domain (default: the grid domain\'s stewards).',
  security: SESSION_AND_CSRF_SECURITY, middleware: [requireAuth()] as const,
  request: { params: DomainParam, body: { required: true, content: { 'application/json': { schema: PhotoUploadSchema } } } },
  responses: {
    201: { description: 'accepted: stored in the domain with a new visit', content: { 'application/json': { schema: z.object({ outcome: z.literal('accepted'), photoId: z.string(), visitId: z.string() }).openapi('FieldPhotoAccepted') } } },
    400: errors[400], 401: errors[401], 403: errors[403],
    404: err('LAB-E004: no such domain'),
    413: err('LAB-E151: the photo is over 5 MB (field `photo`)'),
    422: err('LAB-E150 ID number (`idNumber`), LAB-E140 not an image or corrupt (`photo`), LAB-E152 no usable face: none, several, too small, turned, blurred (`photo`), LAB-E153 visit details (`visit.*`), LAB-E154 the domain takes no photos, LAB-E003 validation'),
    500: errors[500],
    503: err('LAB-E021 no queue; LAB-E155 the domain did not answer in time (nothing stored)'),
  },
});

export function registerPhotoRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(uploadPhotoRoute, async (c) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    const body = c.req.valid('json');
    return c.json(await uploadFieldPhoto(deps, u, c.req.valid('param').id, body), 201);
  });
}
