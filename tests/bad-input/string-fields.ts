/**
 * Walks a JSON document and lists every place a string can go: each string value and each object
 * key, by path. Used to put hostile strings into every string field of a pipeline.
 */
export type JsonPath = readonly (string | number)[];
export interface StringSite { readonly path: JsonPath; readonly kind: 'value' | 'key' }

export function stringSites(doc: unknown, path: JsonPath = []): StringSite[] {
  if (typeof doc === 'string') return [{ path, kind: 'value' }];
  if (Array.isArray(doc)) return doc.flatMap((v, i) => stringSites(v, [...path, i]));
  if (doc !== null && typeof doc === 'object') {
    return Object.entries(doc).flatMap(([k, v]) => [{ path: [...path, k], kind: 'key' as const }, ...stringSites(v, [...path, k])]);
  }
  return [];
}

/** A copy of `doc` with the string at `site` replaced by `text` (the key renamed, for a key site). */
export function withString(doc: unknown, site: StringSite, text: string): unknown {
  const at = (value: unknown, rest: JsonPath): unknown => {
    const [head, ...tail] = rest;
    if (head === undefined) return text;
    if (Array.isArray(value)) return value.map((v, i) => (i === head ? at(v, tail) : v));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const renamed = k === head && tail.length === 0 && site.kind === 'key';
      // defineProperty, so that a key named `__proto__` stays an ordinary own key, as JSON.parse makes it.
      Object.defineProperty(out, renamed ? text : k, { value: k === head && !renamed ? at(v, tail) : v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return at(doc, site.path);
}

export const pathText = (path: JsonPath) => path.map(String).join('.');
