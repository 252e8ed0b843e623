import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATORS } from '../../operators/index.ts';
import { MAX_NODES } from '../../sandbox/pipeline/spec.ts';
import type { Database } from '../../sandbox/store/database.ts';
import { buildApp } from '../../server/app.ts';
import type { ControlSchema } from '../../server/db/control.schema.ts';
import { createLogger } from '../../server/lab/logger.ts';
import { paramsComponentName } from '../../server/routes/pipeline-document.schema.ts';

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; required?: string[]; oneOf?: Schema[]; items?: Schema };

async function openApi() {
  const noDb = new Proxy({}, { get() { throw new Error('no control database in this test'); } }) as Database<ControlSchema>;
  const app = buildApp({ control: noDb, logger: createLogger('silent'), config: { secureCookies: false }, health: () => Promise.resolve({ status: 'ok', mode: 'embedded', checks: {} }) });
  const res = await app.request('/api/openapi.json');
  return await res.json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, unknown> }>>; components: { schemas: Record<string, Schema> } };
}

const examples = readdirSync(new URL('../../examples/pipelines/', import.meta.url)).filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(new URL(`../../examples/pipelines/${f}`, import.meta.url), 'utf8')) as { nodes: { op: string; params?: Record<string, unknown> }[] }] as const);

describe('OpenAPI: the pipeline document', () => {
  it('both pipeline routes take a PipelineDocument and document 400, 413 and 422', async () => {
    const doc = await openApi();
    for (const path of ['/api/pipelines', '/api/pipelines/validate']) {
      const post = doc.paths[path]?.['post'];
      expect(post?.requestBody?.content['application/json']?.schema['allOf']).toEqual([{ $ref: '#/components/schemas/PipelineDocument' }]);
      expect(Object.keys(post?.responses ?? {})).toEqual(expect.arrayContaining(['400', '413', '422']));
    }
  });

  it('is generated from the validator\'s schemas: limits, patterns, and every operator\'s parameters', async () => {
    const { components: { schemas } } = await openApi();
    const pipeline = schemas['PipelineDocument'];
    expect(pipeline?.properties?.['specVersion']).toMatchObject({ const: 1 });
    expect(pipeline?.properties?.['nodes']).toMatchObject({ maxItems: MAX_NODES, items: { $ref: '#/components/schemas/PipelineNode' } });
    expect(pipeline?.['additionalProperties']).toBe(false);
    const node = schemas['PipelineNode'];
    expect(node?.properties?.['id']?.['pattern']).toBeTypeOf('string');
    expect(node?.oneOf?.map((v) => v.title)).toEqual(OPERATORS.map((op) => `${op.id}@${op.version}`));
    for (const op of OPERATORS) {
      const params = schemas[paramsComponentName(op)];
      expect(params?.['additionalProperties'], op.id).toBe(false);
      expect(params?.['description'], op.id).toContain(op.label.zh);
    }
  });

  it.each(examples)('example %s fits the described shape (operators known, parameters named in their schema)', async (_file, example) => {
    const { components: { schemas } } = await openApi();
    for (const n of example.nodes) {
      const op = OPERATORS.find((o) => `${o.id}@${o.version}` === n.op);
      expect(op, n.op).toBeDefined();
      if (!op) continue;
      const params = schemas[paramsComponentName(op)];
      for (const key of Object.keys(n.params ?? {})) expect(Object.keys(params?.properties ?? {}), `${n.op} ${key}`).toContain(key);
      for (const key of params?.required ?? []) expect(Object.keys(n.params ?? {}), `${n.op} needs ${key}`).toContain(key);
    }
  });
});
