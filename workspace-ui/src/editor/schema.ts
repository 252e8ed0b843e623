/**
 * Reading an operator's parameter schema (JSON Schema from the API) for the inspector: UI hints by
 * path, starting values, what a node still needs before it can run. Pure functions; the form that
 * renders them is schema-form.tsx.
 */
import type { JsonSchema, UiHint } from '../api/types.ts';

export type Path = readonly (string | number)[];

export const pathKey = (path: Path): string => path.join('.');

/**
 * The UI hint of a parameter: by its exact path (`columns.0.expr`), by its path with `*` for
 * every array index (`columns.*.expr`), or for a top-level parameter by its name.
 */
export function hintFor(ui: Readonly<Record<string, UiHint>>, path: Path): UiHint | undefined {
  return ui[pathKey(path)] ?? ui[path.map((p) => (typeof p === 'number' ? '*' : p)).join('.')];
}

export const isObject = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A starting value for a new field or array item: its default, else the emptiest valid-looking value. */
export function startValue(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum && schema.enum.length) return schema.enum[0];
  switch (schema.type) {
    case 'object': return startParams(schema);
    case 'array': return Array.from({ length: schema.minItems ?? 0 }, () => startValue(schema.items ?? {}));
    case 'string': return '';
    case 'number': case 'integer': return schema.minimum ?? 0;
    case 'boolean': return false;
    case undefined: return undefined;
    default: return undefined;
  }
}

/**
 * The parameters of a node just dropped on the canvas: required ones get a starting value (so the
 * form shows them), optional ones stay absent and the server applies their defaults.
 */
export function startParams(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const prop = schema.properties?.[name];
    if (prop) out[name] = startValue(prop);
  }
  return out;
}

/** Paths of required parameters that are still empty: the node is "not configured" until there are none. */
export function missingRequired(schema: JsonSchema, value: unknown, path: Path = []): Path[] {
  const missing: Path[] = [];
  if (schema.type === 'object' && schema.properties) {
    const obj = isObject(value) ? value : {};
    for (const [name, prop] of Object.entries(schema.properties)) {
      const v = obj[name];
      const required = schema.required?.includes(name) === true;
      if (v === undefined || v === '') {
        if (required && prop.default === undefined) missing.push([...path, name]);
        continue;
      }
      missing.push(...missingRequired(prop, v, [...path, name]));
    }
  } else if (schema.type === 'array') {
    const list = Array.isArray(value) ? (value as unknown[]) : [];
    if (list.length < (schema.minItems ?? 0)) missing.push(path);
    list.forEach((item, i) => { if (schema.items) missing.push(...missingRequired(schema.items, item, [...path, i])); });
  }
  return missing;
}

/** The form path of a server error's `field` (`params.columns.0.expr` → `columns.0.expr`), if it is a parameter. */
export function paramPathOf(field: string | undefined): string | undefined {
  if (!field?.startsWith('params')) return undefined;
  return field === 'params' ? '' : field.slice('params.'.length);
}

/** Immutable update of `value` at `path`; `undefined` removes an object key. */
export function setAt(value: unknown, path: Path, next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const list = Array.isArray(value) ? [...(value as unknown[])] : [];
    list[head] = setAt(list[head], rest, next);
    return list;
  }
  const obj: Record<string, unknown> = isObject(value) ? { ...value } : {};
  const key = head ?? '';
  const v = setAt(obj[key], rest, next);
  if (v === undefined) delete obj[key];
  else obj[key] = v;
  return obj;
}

export function getAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) {
    if (typeof p === 'number') v = Array.isArray(v) ? (v as unknown[])[p] : undefined;
    else v = isObject(v) ? v[p] : undefined;
  }
  return v;
}
