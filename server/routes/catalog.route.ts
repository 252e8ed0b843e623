import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { CLASSIFICATIONS, GEO_LEVELS, SEMANTIC_TYPES } from '../../sandbox/domains/catalog/index.ts';
import { LabError } from '../../sandbox/errors/index.ts';
import type { AppDeps } from '../app-deps.ts';
import { authorize } from '../services/policy.service.ts';
import type { AppEnv } from '../app-env.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { readCatalog, readGeography } from '../services/catalog.service.ts';
import { BilingualSchema, SESSION_SECURITY, errors } from './common.schema.ts';

export const CatalogColumnSchema = z.object({
  name: z.string(),
  type: z.string().openapi({ description: 'physical type: text, date, int, bigint, numeric, boolean, bytea' }),
  semantic: z.string().openapi({ description: `semantic type: ${SEMANTIC_TYPES.join(', ')}; identifier types may be used inside a domain but never output or grouped on` }),
  level: z.enum(CLASSIFICATIONS).openapi({ description: 'classification: L1 public, L2 internal, L3 sensitive, L4 core-sensitive' }),
  label: BilingualSchema,
  nullable: z.boolean(),
  values: z.record(z.string(), BilingualSchema).nullable().openapi({ description: 'closed code list of a category: code → label' }),
  bounds: z.tuple([z.number(), z.number()]).nullable().openapi({ description: 'clamping bounds of a measure' }),
  geoLevel: z.string().nullable().openapi({ description: `for geo codes: ${GEO_LEVELS.join(', ')}` }),
}).openapi('CatalogColumn');

export const CatalogDatasetSchema = z.object({
  id: z.string().openapi({ example: 'registry.person' }),
  domain: z.string(),
  table: z.string(),
  label: BilingualSchema,
  description: BilingualSchema,
  unit: z.object({ column: z.string(), kind: z.string() }).openapi({ description: 'the privacy unit: whose rows these are' }),
  columns: z.array(CatalogColumnSchema),
}).openapi('CatalogDataset');

export const CatalogSchema = z.object({ datasets: z.array(CatalogDatasetSchema) }).openapi('Catalog');

export const GeoUnitSchema = z.object({
  code: z.string(),
  level: z.enum(['district', 'street', 'community', 'grid']),
  parentCode: z.string().nullable(),
  name: BilingualSchema,
  urbanVillage: z.boolean(),
}).openapi('GeoUnit');

export const GeographySchema = z.object({
  units: z.array(GeoUnitSchema).openapi({ description: 'every unit, parents before children; the tree is given by parentCode' }),
}).openapi('Geography');

export const catalogRoute = createRoute({
  method: 'get',
  path: '/api/catalog',
  tags: ['catalog'],
  summary: 'Every dataset of every domain with its columns: metadata only, never rows',
  security: SESSION_SECURITY,
  middleware: [requireAuth()] as const,
  responses: {
    200: { description: 'the catalog', content: { 'application/json': { schema: CatalogSchema } } },
    401: errors[401],
  },
});

export const geographyRoute = createRoute({
  method: 'get',
  path: '/api/catalog/geography',
  tags: ['catalog'],
  summary: 'The reference geography: district → street → community → grid',
  security: SESSION_SECURITY,
  middleware: [requireAuth()] as const,
  responses: {
    200: { description: 'the geography tree as a parent-linked list', content: { 'application/json': { schema: GeographySchema } } },
    401: errors[401],
  },
});

export function registerCatalogRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const may = async (c: { var: AppEnv['Variables'] }) => {
    const u = c.var.user;
    if (!u) throw new LabError('LAB-E011');
    await authorize(deps.control, u, 'catalog.read', { type: 'Service', id: 'catalog' });
  };
  app.openapi(catalogRoute, async (c) => { await may(c); return c.json({ datasets: await readCatalog(deps.control) }, 200); });
  app.openapi(geographyRoute, async (c) => { await may(c); return c.json({ units: await readGeography(deps.control) }, 200); });
}
