import { z } from 'zod';

/**
 * The pipeline document (JSON) as the browser sends it and the API stores it. Versioned by
 * `specVersion`; documented in docs/pipeline-spec.md. Operator parameters are validated by each
 * operator's own schema, so here they are an open object.
 */
export const PIPELINE_SPEC_VERSION = 1;
export const MAX_NODES = 200;
export const MAX_REQUEST_BYTES = 256 * 1024;
/** Deepest JSON nesting accepted in a document (a real one is about 6 deep). */
export const MAX_DOCUMENT_DEPTH = 32;

export const nodeIdSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'node ids: a letter, then letters, digits, - or _ (at most 64)');
export const operatorRefSchema = z.string().regex(/^[a-z][a-z0-9-]{0,47}@[1-9][0-9]{0,3}$/, 'operator: <id>@<version>, e.g. filter@1');

/** A port reference: `<nodeId>` (its only output) or `<nodeId>.<port>`. */
export const portRefSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}(\.[a-z][a-z0-9_]{0,31})?$/, 'input: <nodeId> or <nodeId>.<port>');

export const pipelineNodeSchema = z.object({
  id: nodeIdSchema,
  op: operatorRefSchema,
  label: z.string().max(200).optional(),
  inputs: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), portRefSchema).default({}),
  params: z.record(z.string(), z.unknown()).default({}),
  position: z.object({ x: z.number().finite(), y: z.number().finite() }).optional(),
}).strict();

export const pipelineSpecSchema = z.object({
  specVersion: z.literal(PIPELINE_SPEC_VERSION),
  name: z.string().min(1).max(200),
  description: z.string().max(4000).optional(),
  nodes: z.array(pipelineNodeSchema).min(1).max(MAX_NODES),
}).strict();

export type PipelineNode = z.infer<typeof pipelineNodeSchema>;
export type PipelineSpec = z.infer<typeof pipelineSpecSchema>;
