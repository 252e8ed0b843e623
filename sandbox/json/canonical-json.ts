/**
 * Canonical JSON (RFC 8785, JCS) for the values the lab hashes: object keys sorted by UTF-16 code
 * units, no white space, strings and numbers as ECMAScript's JSON.stringify writes them. One
 * function for every stable hash of the lab: the audit chain's entries and checkpoints, pipeline
 * documents (approval binding) and policy bundles.
 *
 * Values that are not JSON (non-finite numbers, bigint, functions, symbols, class instances) and
 * strings with U+0000 (Postgres jsonb cannot store them) are refused through `invalid`. Object
 * keys whose value is `undefined` are refused too, unless `undefinedKeys: 'drop'` (in-memory objects
 * with optional fields, hashed as JSON.stringify would write them).
 */
export interface CanonicalJsonOptions {
  readonly undefinedKeys?: 'refuse' | 'drop';
  /** Makes the error for a value that cannot be written; `path` is like `$.a[2].b`. */
  readonly invalid?: (path: string, problem: string) => Error;
}

export function canonicalJson(value: unknown, options: CanonicalJsonOptions = {}): string {
  const invalid = options.invalid ?? ((path: string, problem: string) => new TypeError(`${path} ${problem}`));
  const drop = options.undefinedKeys === 'drop';
  const canon = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean': return v ? 'true' : 'false';
      case 'number':
        if (!Number.isFinite(v)) throw invalid(path, 'is not a finite number');
        return JSON.stringify(v);
      case 'string':
        if (v.includes('\u0000')) throw invalid(path, 'contains U+0000');
        return JSON.stringify(v);
      case 'object': {
        if (Array.isArray(v)) return `[${v.map((x, i) => canon(x, `${path}[${i}]`)).join(',')}]`;
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) throw invalid(path, 'is not a plain object');
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o).filter((k) => !(drop && o[k] === undefined)).sort(compareUtf16);
        return `{${keys.map((k) => `${JSON.stringify(k)}:${canon(o[k], `${path}.${k}`)}`).join(',')}}`;
      }
      case 'bigint': case 'function': case 'symbol': case 'undefined':
        break;
    }
    throw invalid(path, `is ${typeof v}, not a JSON value`);
  };
  return canon(value, '$');
}

/** Orders strings by UTF-16 code units (what RFC 8785 asks; JavaScript's `<` on strings does exactly this). */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
