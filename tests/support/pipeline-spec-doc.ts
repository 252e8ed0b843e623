import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { OPERATORS, type AnyOperator } from '../../operators/index.ts';
import { MAX_KEY_LEVELS } from '../../operators/aggregate/group-keys.ts';
import { MAX_JOIN_COLUMNS } from '../../operators/join/join.operator.ts';
import { columnNameRegex } from '../../operators/operator-helpers.ts';
import { SAFE_DERIVATIONS } from '../../sandbox/domains/catalog/safe-derivations.ts';
import { CLASSIFICATIONS, IDENTIFIER_TYPES, SEMANTIC_TYPES } from '../../sandbox/domains/catalog/types.ts';
import { ERROR_CODES } from '../../sandbox/errors/codes.ts';
import { MAX_IN_ITEMS, MAX_TEXT_LITERAL } from '../../sandbox/expr/check.ts';
import { FUNCTIONS } from '../../sandbox/expr/functions.ts';
import { KEYWORDS, MAX_EXPRESSION_LENGTH, OPS } from '../../sandbox/expr/lexer.ts';
import { EXPRESSION_GRAMMAR, MAX_EXPRESSION_DEPTH } from '../../sandbox/expr/parser.ts';
import { TYPE_LABELS } from '../../sandbox/expr/types.ts';
import {
  MAX_DOCUMENT_DEPTH, MAX_NODES, MAX_REQUEST_BYTES, PIPELINE_SPEC_VERSION, nodeIdSchema, operatorRefSchema, pipelineNodeSchema, pipelineSpecSchema, portRefSchema,
} from '../../sandbox/pipeline/spec.ts';

/**
 * The generated parts of docs/pipeline-spec.md: each lives between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->` and is rendered here from the code (operators, their parameter
 * schemas, the expression language, limits, error codes, examples). `tests/unit/pipeline-spec-doc.test.ts`
 * fails when the file is out of date; regenerate with `npx tsx tests/support/write-pipeline-spec-doc.ts`.
 */

type JsonSchema = {
  type?: string | string[]; const?: unknown; enum?: unknown[]; default?: unknown; pattern?: string;
  minLength?: number; maxLength?: number; minItems?: number; maxItems?: number; minimum?: number; maximum?: number;
  items?: JsonSchema; properties?: Record<string, JsonSchema>; required?: string[]; additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[];
};

const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s}\``;

function typeText(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeText).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (type === 'array') {
    const inner = s.items ? typeText(s.items) : 'unknown';
    return /[ |]/.test(inner) && !inner.startsWith('{') ? `(${inner})[]` : `${inner}[]`;
  }
  if (type === 'object') {
    if (s.properties) {
      const req = new Set(s.required ?? []);
      return `{ ${Object.entries(s.properties).map(([k, v]) => `${k}${req.has(k) ? '' : '?'}: ${typeText(v)}`).join('; ')} }`;
    }
    const values = typeof s.additionalProperties === 'object' ? typeText(s.additionalProperties) : 'unknown';
    return `{ [key: string]: ${values} }`;
  }
  return type ?? 'any';
}

function constraints(s: JsonSchema): string {
  const out: string[] = [];
  if (s.minLength !== undefined || s.maxLength !== undefined) out.push(`${s.minLength ?? 0}–${s.maxLength ?? '∞'} characters`);
  if (s.pattern) out.push(`pattern ${code(s.pattern)}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) out.push(`${s.minItems ?? 0}–${s.maxItems ?? '∞'} items`);
  if (s.minimum !== undefined || s.maximum !== undefined) out.push(`${s.minimum ?? '−∞'}–${s.maximum ?? '∞'}`);
  if (s.items) {
    const inner = constraints(s.items);
    if (inner) out.push(`each: ${inner}`);
    for (const [k, v] of Object.entries(s.items.properties ?? {})) {
      const c = constraints(v);
      if (c) out.push(`${k}: ${c}`);
    }
  }
  if (s.propertyNames) {
    const c = constraints(s.propertyNames);
    if (c) out.push(`keys: ${c}`);
  }
  if (typeof s.additionalProperties === 'object') {
    const c = constraints(s.additionalProperties);
    if (c) out.push(`values: ${c}`);
  }
  return out.join('; ');
}

/** A table of an object schema's fields: name, type, required, default, constraints. */
function fieldsTable(schema: JsonSchema, what: string): string {
  const props = Object.entries(schema.properties ?? {});
  if (props.length === 0) return `_No ${what}._`;
  const required = new Set(schema.required ?? []);
  return [
    `| ${what} | type | required | default | constraints |`,
    '|---|---|---|---|---|',
    ...props.map(([name, s]) => `| ${code(name)} | ${cell(code(typeText(s)))} | ${required.has(name) ? 'yes' : 'no'} | ${s.default === undefined ? '' : cell(code(JSON.stringify(s.default)))} | ${cell(constraints(s))} |`),
  ].join('\n');
}

const ports = (p: Readonly<Record<string, string>>) => {
  const list = Object.entries(p);
  return list.length ? list.map(([name, kind]) => `${code(name)} (${kind})`).join(', ') : 'none';
};

const anchor = (op: AnyOperator) => `op-${op.id}-${op.version}`;

function operatorSection(op: AnyOperator): string {
  return [
    `### <a id="${anchor(op)}"></a>${code(`${op.id}@${op.version}`)} — ${op.label.en} / ${op.label.zh}`,
    '',
    `Category: ${op.category} · policy action: ${op.policyAction} · inputs: ${ports(op.inputs)} · outputs: ${ports(op.outputs)}`,
    '',
    `> ${op.help.en}`,
    '>',
    `> ${op.help.zh}`,
    '',
    fieldsTable(jsonSchema(op.params), 'parameter'),
  ].join('\n');
}

function examplesSection(): string {
  const dir = new URL('../../examples/pipelines/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return [
    '| file | name | operators |',
    '|---|---|---|',
    ...files.map((f) => {
      const doc = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { name: string; nodes: { op: string }[] };
      return `| [${f}](../examples/pipelines/${f}) | ${cell(doc.name)} | ${[...new Set(doc.nodes.map((n) => code(n.op)))].join(', ')} |`;
    }),
  ].join('\n');
}

const PIPELINE_CODES = (c: string) => ['LAB-E002', 'LAB-E003', 'LAB-E005', 'LAB-E160', 'LAB-E161', 'LAB-E164', 'LAB-E165'].includes(c) || (c >= 'LAB-E050' && c <= 'LAB-E089');

export function renderPipelineSpecSections(): Record<string, string> {
  const spec = jsonSchema(pipelineSpecSchema);
  const node = jsonSchema(pipelineNodeSchema);
  const s6 = readFileSync(new URL('../../examples/pipelines/s6-registry-new-inflow.json', import.meta.url), 'utf8').trimEnd();
  return {
    document: [
      fieldsTable({ ...spec, properties: { ...spec.properties, nodes: { ...spec.properties?.['nodes'], items: { type: 'node' } } } }, 'field'),
      '',
      'A node:',
      '',
      fieldsTable(node, 'field'),
    ].join('\n'),
    'operator-list': [
      '| operator | label | category | inputs | outputs |',
      '|---|---|---|---|---|',
      ...OPERATORS.map((op) => `| [${code(`${op.id}@${op.version}`)}](#${anchor(op)}) | ${op.label.en} / ${op.label.zh} | ${op.category} | ${ports(op.inputs)} | ${ports(op.outputs)} |`),
    ].join('\n'),
    operators: OPERATORS.map(operatorSection).join('\n\n'),
    grammar: ['```', EXPRESSION_GRAMMAR, '```'].join('\n'),
    lexical: [
      `- Keywords (any case): ${[...KEYWORDS].map(code).join(', ')}.`,
      `- Operators: ${OPS.map(code).join(', ')} (${code('<>')} is ${code('!=')}).`,
    ].join('\n'),
    types: [
      '| type | 中文 | English |',
      '|---|---|---|',
      ...Object.entries(TYPE_LABELS).map(([type, l]) => `| ${code(type)} | ${l.zh} | ${l.en} |`),
    ].join('\n'),
    functions: [
      '| function | category | signature | English | 中文 |',
      '|---|---|---|---|---|',
      ...FUNCTIONS.map((f) => `| ${code(f.name)} | ${f.category} | ${cell(code(f.signature))} | ${cell(f.help.en)} | ${cell(f.help.zh)} |`),
    ].join('\n'),
    'safe-derivations': [
      '| function | of | result | level | why |',
      '|---|---|---|---|---|',
      ...SAFE_DERIVATIONS.map((d) => `| ${code(d.fn)} | ${code(d.from)} | ${code(d.semantic)} | ${d.level} | ${cell(d.why.en)} / ${cell(d.why.zh)} |`),
    ].join('\n'),
    classification: [
      `- Levels: ${CLASSIFICATIONS.map(code).join(' < ')} (public, internal, sensitive, core-sensitive).`,
      `- Semantic types: ${SEMANTIC_TYPES.map(code).join(', ')}.`,
      `- Identifier types (I3): ${[...IDENTIFIER_TYPES].map(code).join(', ')}.`,
    ].join('\n'),
    limits: [
      '| what | limit | refused with |',
      '|---|---|---|',
      `| request body | ${MAX_REQUEST_BYTES / 1024} KB (bytes of UTF-8) | LAB-E005 (413) |`,
      `| JSON nesting of the document | ${MAX_DOCUMENT_DEPTH} levels | LAB-E003 |`,
      '| strings anywhere in the document | no NUL (`\\u0000`), no unpaired surrogate; no `__proto__` key | LAB-E003 |',
      `| ${code('specVersion')} | exactly ${PIPELINE_SPEC_VERSION} | LAB-E086 |`,
      `| nodes | 1–${MAX_NODES} | LAB-E003 |`,
      `| node id | ${cell(code(jsonSchema(nodeIdSchema).pattern ?? ''))} | LAB-E003; duplicates LAB-E064 |`,
      `| operator reference | ${cell(code(jsonSchema(operatorRefSchema).pattern ?? ''))} | LAB-E003; unknown LAB-E060 |`,
      `| input reference | ${cell(code(jsonSchema(portRefSchema).pattern ?? ''))} | LAB-E003; dangling or mistyped LAB-E061 |`,
      `| names of new columns (derive, join ${code('as')}, measures) | ${cell(code(columnNameRegex.source))} | LAB-E003; clashes LAB-E064 |`,
      `| expression text | ${MAX_EXPRESSION_LENGTH} characters | LAB-E054 (LAB-E003 when the parameter's own limit is met first) |`,
      `| expression nesting | ${MAX_EXPRESSION_DEPTH} levels | LAB-E054 |`,
      `| ${code('IN')} list | ${MAX_IN_ITEMS} items | LAB-E054 |`,
      `| text literal | ${MAX_TEXT_LITERAL} characters | LAB-E054 |`,
      `| levels of a non-geography group key | ${MAX_KEY_LEVELS} | LAB-E065 — at validation when the catalog lists the values, otherwise by the guard at run time |`,
      `| right-hand columns of a join | ${MAX_JOIN_COLUMNS} | LAB-E003 |`,
    ].join('\n'),
    errors: [
      '| code | HTTP | 中文 | English |',
      '|---|---|---|---|',
      ...Object.entries(ERROR_CODES).filter(([c]) => PIPELINE_CODES(c)).map(([c, s]) => `| [${c}](errors.md#${c.toLowerCase()}) | ${s.status} | ${s.zh} | ${s.en} |`),
    ].join('\n'),
    examples: examplesSection(),
    's6-example': ['```json', s6, '```'].join('\n'),
  };
}

const BLOCK = /<!-- generated:([a-z0-9-]+) -->\n(?:[\s\S]*?\n)?<!-- \/generated:\1 -->/g;

/** The document with every generated block re-rendered; throws on an unknown or missing block. */
export function syncPipelineSpecDoc(text: string): string {
  const sections = renderPipelineSpecSections();
  const seen = new Set<string>();
  const out = text.replace(BLOCK, (_m, name: string) => {
    const body = sections[name];
    if (body === undefined) throw new Error(`docs/pipeline-spec.md has an unknown generated block ${name}`);
    seen.add(name);
    return `<!-- generated:${name} -->\n${body}\n<!-- /generated:${name} -->`;
  });
  const missing = Object.keys(sections).filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`docs/pipeline-spec.md lacks the generated blocks ${missing.join(', ')}`);
  return out;
}
