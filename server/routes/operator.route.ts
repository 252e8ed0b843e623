import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { z as zod } from 'zod';
import { OPERATORS, TAG_LIBRARY, type AnyOperator, type UiHint } from '../../operators/index.ts';
import type { AppDeps } from '../app-deps.ts';
import type { AppEnv } from '../app-env.ts';
import { requireAuth } from '../middleware/require-auth/index.ts';
import { BilingualSchema, SESSION_SECURITY, errors } from './common.schema.ts';

/**
 * The operator registry as the workspace's palette and inspector read it: identity, labels and
 * help in both languages, category, typed ports, the parameters as JSON Schema (generated from the
 * very zod schema the validator parses with, in its input form: a parameter with a default is
 * optional) and the UI hints. The browser builds every form from this; nothing is hand-written per
 * operator there.
 */

const PortTypeSchema = z.enum(['rows', 'table']);

const UiHintSchema = z.object({
  widget: z.enum(['expression', 'dataset', 'column', 'tags', 'text']),
  port: z.string().optional().openapi({ description: 'column widget: the input port whose columns are offered' }),
  multiple: z.boolean().optional(),
  placeholder: BilingualSchema.optional(),
}).openapi('UiHint');

export const OperatorInfoSchema = z.object({
  ref: z.string().openapi({ example: 'geo-rollup@1', description: 'what a pipeline node names in `op`' }),
  id: z.string(),
  version: z.number().int(),
  label: BilingualSchema,
  help: BilingualSchema,
  category: z.enum(['source', 'transform', 'statistics', 'output']),
  policyAction: z.enum(['read-dataset', 'transform', 'aggregate', 'release']),
  inputs: z.record(z.string(), PortTypeSchema).openapi({ description: 'input port → type; a `rows` output feeds only `rows` inputs, `table` only `table`' }),
  outputs: z.record(z.string(), PortTypeSchema),
  params: z.record(z.string(), z.unknown()).openapi({ description: 'JSON Schema (draft 2020-12) of the parameters as accepted: defaults are optional and shown as `default`' }),
  ui: z.record(z.string(), UiHintSchema).openapi({
    description: 'UI hints by parameter path: `dataset`, `groupBy`, or inside arrays of objects `columns.*.expr` (`*` = every item)',
  }),
}).openapi('OperatorInfo');

export const TagInfoSchema = z.object({
  id: z.string(),
  label: BilingualSchema,
  category: z.string(),
  dataset: z.string().openapi({ description: 'the catalog dataset whose rows the tag applies to' }),
  level: z.enum(['L1', 'L2', 'L3', 'L4']),
}).openapi('TagInfo');

export const OperatorRegistrySchema = z.object({
  operators: z.array(OperatorInfoSchema),
  tags: z.object({
    categories: z.array(z.object({ id: z.string(), label: BilingualSchema })),
    tags: z.array(TagInfoSchema),
  }).openapi({ description: 'the tag library the `tags` widget offers (rules stay on the server)' }),
}).openapi('OperatorRegistry');

export type OperatorInfo = z.infer<typeof OperatorInfoSchema>;
export type OperatorRegistry = z.infer<typeof OperatorRegistrySchema>;

export const operatorsRoute = createRoute({
  method: 'get',
  path: '/api/operators',
  tags: ['pipelines'],
  summary: 'The operator registry: labels, help, ports, parameters as JSON Schema and UI hints (what the canvas palette and inspector are built from)',
  security: SESSION_SECURITY,
  middleware: [requireAuth()] as const,
  responses: {
    200: { description: 'every registered operator and the tag library', content: { 'application/json': { schema: OperatorRegistrySchema } } },
    401: errors[401],
  },
});

/**
 * Hints an operator module does not declare yet, keyed by `id@version`. The module's own hints
 * win; an entry here goes away once the module declares it (operators/<id>/<id>.operator.ts `ui`).
 */
const SUPPLEMENTARY_HINTS: Readonly<Record<string, Readonly<Record<string, UiHint>>>> = {
  'derive@1': { 'columns.*.expr': { widget: 'expression' } },
  'aggregate@1': { 'measures.*.column': { widget: 'column', port: 'rows' } },
  'geo-rollup@1': { 'measures.*.column': { widget: 'column', port: 'rows' } },
  'join@1': { 'columns.*.column': { widget: 'column', port: 'right' } },
};

function paramsJsonSchema(op: AnyOperator): Record<string, unknown> {
  const { $schema: _drop, ...rest } = zod.toJSONSchema(op.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function operatorInfo(op: AnyOperator): OperatorInfo {
  const ref = `${op.id}@${op.version}`;
  return {
    ref, id: op.id, version: op.version,
    label: { zh: op.label.zh, en: op.label.en },
    help: { zh: op.help.zh, en: op.help.en },
    category: op.category,
    policyAction: op.policyAction,
    inputs: { ...op.inputs },
    outputs: { ...op.outputs },
    params: paramsJsonSchema(op),
    ui: { ...SUPPLEMENTARY_HINTS[ref], ...op.ui },
  };
}

let cached: OperatorRegistry | undefined;

/** The registry never changes while the process runs: built once, on first use. */
export function operatorRegistry(): OperatorRegistry {
  cached ??= {
    operators: OPERATORS.map(operatorInfo),
    tags: {
      categories: TAG_LIBRARY.categories.map((c) => ({ id: c.id, label: { zh: c.label.zh, en: c.label.en } })),
      tags: TAG_LIBRARY.tags.map((tag) => ({ id: tag.id, label: { zh: tag.label.zh, en: tag.label.en }, category: tag.category, dataset: tag.dataset, level: tag.level })),
    },
  };
  return cached;
}

export function registerOperatorRoutes(app: OpenAPIHono<AppEnv>, _deps: AppDeps): void {
  app.openapi(operatorsRoute, (c) => c.json(operatorRegistry(), 200));
}
