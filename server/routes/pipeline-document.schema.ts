import { z } from 'zod';
import { OPERATORS, type AnyOperator } from '../../operators/index.ts';
import { pipelineNodeSchema, pipelineSpecSchema } from '../../sandbox/pipeline/spec.ts';

/**
 * The pipeline document as OpenAPI components, generated from the very zod schemas the validator
 * uses (document shape, and each operator's parameters), so the API description cannot drift from
 * what is checked. Request bodies are still checked by the pipeline validator, which names the node
 * and field of every problem; these components only describe them.
 */
export type JsonSchema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function toSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Component name of an operator's parameters, e.g. `OperatorParams_geo_rollup_v1`. */
export const paramsComponentName = (op: Pick<AnyOperator, 'id' | 'version'>) => `OperatorParams_${op.id.replace(/-/g, '_')}_v${op.version}`;

const portsText = (ports: Readonly<Record<string, string>>) => {
  const list = Object.entries(ports).map(([name, kind]) => `${name} (${kind})`);
  return list.length ? list.join(', ') : 'none';
};

export function pipelineDocumentComponents(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const op of OPERATORS) {
    out[paramsComponentName(op)] = {
      ...toSchema(op.params),
      description: `Parameters of ${op.id}@${op.version} — ${op.label.en} / ${op.label.zh}. Inputs: ${portsText(op.inputs)}. Outputs: ${portsText(op.outputs)}. ${op.help.en}`,
    };
  }
  out['PipelineNode'] = {
    ...toSchema(pipelineNodeSchema),
    description: 'One operator node. `op` is `<id>@<version>`; `inputs` maps each input port to `<nodeId>` or `<nodeId>.<port>`; `params` follow the operator\'s own schema (see the oneOf below and docs/pipeline-spec.md).',
    oneOf: OPERATORS.map((op) => ({
      title: `${op.id}@${op.version}`,
      type: 'object',
      properties: { op: { const: `${op.id}@${op.version}` }, params: ref(paramsComponentName(op)) },
      required: ['op'],
    })),
  };
  const doc = toSchema(pipelineSpecSchema);
  const props = (doc['properties'] ?? {}) as Record<string, JsonSchema>;
  out['PipelineDocument'] = {
    ...doc,
    properties: { ...props, nodes: { ...props['nodes'], items: ref('PipelineNode') } },
    description: 'A pipeline (docs/pipeline-spec.md): a DAG of operator nodes. Request bodies are at most 256 KB and nested at most 32 deep; strings must not contain NUL or unpaired surrogates. '
      + 'Checked by the pipeline validator, which answers 422 with one error per broken node (`nodeId`, `field`).',
  };
  return out;
}
