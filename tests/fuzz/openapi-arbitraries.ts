import fc from 'fast-check';
import { HOSTILE_FRAGMENTS } from './expr-arbitraries.ts';
import { jsonValue, type Json } from './pipeline-arbitraries.ts';

/**
 * Request parts generated from the OpenAPI document: values that fit a JSON schema (its $refs,
 * objects, arrays, enums, strings, numbers), then mutated (a required field dropped, an extra
 * one added, a value of the wrong type, null, a huge string); path and query values of every
 * sort; bodies that are not JSON; content types that are not JSON.
 */

export interface Schema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly enum?: readonly Json[];
  readonly const?: Json;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly allOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly nullable?: boolean;
}

export interface OpenApiDoc {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}
export interface Operation {
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly required?: boolean; readonly schema?: Schema }[];
  readonly requestBody?: { readonly required?: boolean; readonly content?: Readonly<Record<string, { readonly schema?: Schema }>> };
}

const hostile: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_FRAGMENTS),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', 'x'.repeat(5000)),
);

/** Values fitting `schema` (as far as this small generator understands JSON schema). */
export function fromSchema(schema: Schema, doc: OpenApiDoc, depth = 0): fc.Arbitrary<Json> {
  if (depth > 8) return fc.constant(null);
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    return target ? fromSchema(target, doc, depth + 1) : jsonValue;
  }
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => fromSchema(s, doc, depth + 1)));
  if (schema.allOf?.length) {
    const [first] = schema.allOf;
    return first ? fromSchema(first, doc, depth + 1) : jsonValue;
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const nullable = (a: fc.Arbitrary<Json>) => (schema.nullable ? fc.option(a, { nil: null }) : a);
  switch (type) {
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      const required = new Set(schema.required ?? []);
      if (props.length === 0) return nullable(fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 3 }) as fc.Arbitrary<Json>);
      const record: Record<string, fc.Arbitrary<Json>> = {};
      for (const [k, s] of props) record[k] = fromSchema(s, doc, depth + 1);
      return nullable(fc.record(record, { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) }) as fc.Arbitrary<Json>);
    }
    case 'array':
      return nullable(fc.array(schema.items ? fromSchema(schema.items, doc, depth + 1) : jsonValue, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) }));
    case 'string':
      return nullable(fc.oneof(
        { weight: 3, arbitrary: fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) }) },
        { weight: 1, arbitrary: hostile },
      ));
    case 'integer':
      return nullable(fc.oneof(fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 }), fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER)));
    case 'number':
      return nullable(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()));
    case 'boolean':
      return nullable(fc.boolean());
    default:
      return jsonValue;
  }
}

/** How a generated value is spoiled before it is sent. */
export type Spoil =
  | { readonly kind: 'none' }
  | { readonly kind: 'dropKey'; readonly i: number }
  | { readonly kind: 'extraKey'; readonly key: string; readonly value: Json }
  | { readonly kind: 'wrongType'; readonly i: number; readonly value: Json }
  | { readonly kind: 'replace'; readonly value: Json };

export const spoilArb: fc.Arbitrary<Spoil> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dropKey' as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('extraKey' as const), key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'id', 'role', 'userId', 'admin', ''), fc.string({ maxLength: 8 })), value: jsonValue }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wrongType' as const), i: fc.nat(), value: fc.oneof(jsonValue, fc.constantFrom<Json>(null, 1, '1', true, [], {}, 'x'.repeat(300_000))) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), value: jsonValue }) },
);

/** Applies a spoil to a value (objects only, except `replace`). */
export function spoil(v: Json, s: Spoil): Json {
  if (s.kind === 'replace') return s.value;
  if (s.kind === 'none' || v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, Json> = { ...v };
  const keys = Object.keys(out);
  const key = keys.length ? keys[('i' in s ? s.i : 0) % keys.length] : undefined;
  if (s.kind === 'dropKey' && key !== undefined) Reflect.deleteProperty(out, key);
  if (s.kind === 'wrongType' && key !== undefined) out[key] = s.value;
  if (s.kind === 'extraKey') Object.defineProperty(out, s.key, { value: s.value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Text that is not JSON, or JSON at the edges. */
export const notJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '{', '}', '{"a":', '[1,]', '{"a":1,}', 'nul', 'undefined', 'NaN', "{'a':1}", '\ufeff{}', '{"a":1}{"b":2}', '"\\ud800"', '{"__proto__":{"x":1}}',
    '1e999', '-', '[' .repeat(5000), '{"a":'.repeat(3000), '\u0000', 'a=1&b=2', '--boundary\r\n', '<xml/>'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

export const CONTENT_TYPES = ['application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz', 'application/JSON', 'application/json; charset=latin1', 'application/vnd.api+json', 'application/merge-patch+json', '*/*', ''] as const;

/** Path parameter values: real ids, UUIDs, text of every sort, already percent-encoded or raw. */
export const pathValue = (kind: 'string' | 'integer', real: readonly string[]): fc.Arbitrary<string> => fc.oneof(
  { weight: real.length ? 4 : 0, arbitrary: real.length ? fc.constantFrom(...real) : fc.constant('x') },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: kind === 'integer' ? 4 : 1, arbitrary: fc.oneof(fc.integer().map(String), fc.constantFrom('0', '1', '-1', '1.5', '1e3', '99999999999999999999', '2147483648', '9223372036854775808', 'NaN', 'Infinity', '0x10', ' 1', '٣', '1_000')) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom('%00', 'a%00b', '%ZZ', '%', '%E4%B8', '..', '%2E%2E', '..%2F..%2Fetc', '%2F', 'a%20b', '%C0%AE', 'x'.repeat(65), 'x'.repeat(3000), '%F0%9F%98%80', '%EF%BB%BF', "'%3B--", '$1', '%24%7B7*7%7D') },
);

/** Query strings: the operation's parameters with values of every sort, plus unknown and repeated ones. */
export const queryString = (names: readonly string[]): fc.Arbitrary<string> =>
  fc.array(fc.tuple(fc.oneof(...(names.length ? [fc.constantFrom(...names)] : []), fc.constantFrom('x', 'limit', 'from', 'page', '__proto__', 'a[b]')),
    pathValue('integer', [])), { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')}` : ''));
