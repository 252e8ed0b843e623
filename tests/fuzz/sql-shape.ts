import type { Lit } from './expr-arbitraries.ts';

/**
 * What compiled SQL may look like, checked from the outside: user values only as typed `$n`
 * placeholders matching the parameter list, identifiers only as the sanitiser quotes them, and
 * otherwise nothing but the compiler's own fixed vocabulary.
 */

const PLACEHOLDER = /\$(\d+)::(bigint|numeric|text|date|boolean)\b/g;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** String constants the compiler itself writes (date_part fields, formats, clamping dates). */
// '|': the separator of a composite protocol item (ID number ‖ geography code, `protocolItemSql`).
const FIXED_STRINGS = new Set(["'year'", "'month'", "'quarter'", "'YYYYMMDD'", "'M'", "'F'", "'2000-01-01'", "'0001-01-01'", "'9999-12-31'", "'|'"]);

/** Words the expression compiler writes (functions, keywords, casts). */
const EXPRESSION_WORDS = new Set([
  'LEAST', 'GREATEST', 'NULLIF', 'COALESCE', 'NOT', 'AND', 'OR', 'BETWEEN', 'IN', 'IS', 'NULL', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'DATE', 'ARRAY',
  'numeric', 'integer', 'bigint', 'date', 'text', 'boolean',
  'date_part', 'age', 'date_trunc', 'make_interval', 'months', 'to_date', 'substr', 'ascii', 'char_length', 'lower', 'upper', 'btrim',
  'starts_with', 'right', 'strpos', 'abs', 'round', 'floor', 'ceil', 'width_bucket', 'make_date', 'to_char', 'int',
]);

/** Numbers the expression compiler writes (clamping bounds, substr positions, bucket indexes ≤ 21). */
const EXPRESSION_NUMBERS = new Set(['1e60', '2147483647', '2446759', '72318015', '24000', '1000', '48', '17', '12', '8', '7', '6', '2', '1', '0',
  ...Array.from({ length: 22 }, (_, i) => String(i))]);

export interface Placeholders {
  /** Distinct placeholder numbers in the SQL. */
  readonly used: ReadonlySet<number>;
  readonly problems: readonly string[];
}

/** Every `$` begins a typed placeholder; they are exactly $1..$n for n parameters; each value fits its cast. */
export function checkPlaceholders(sql: string, parameters: readonly unknown[]): Placeholders {
  const problems: string[] = [];
  const used = new Set<number>();
  const castOf = new Map<number, string>();
  let count = 0;
  for (const m of sql.matchAll(PLACEHOLDER)) {
    count++;
    const n = Number(m[1]);
    const cast = m[2] ?? '';
    used.add(n);
    const prev = castOf.get(n);
    if (prev !== undefined && prev !== cast) problems.push(`$${n} cast both as ${prev} and ${cast}`);
    castOf.set(n, cast);
    const v = parameters[n - 1];
    if (n < 1 || n > parameters.length) { problems.push(`$${n} has no parameter (${parameters.length} given)`); continue; }
    const fits = cast === 'bigint' ? (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^-?\d{1,19}$/.test(v))
      : cast === 'numeric' ? (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && /^(\d+(\.\d*)?|\.\d+)$/.test(v))
        : cast === 'date' ? typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)
          : cast === 'boolean' ? typeof v === 'boolean'
            : typeof v === 'string';
    if (!fits) problems.push(`$${n}::${cast} holds ${JSON.stringify(v)}`);
  }
  const dollars = (sql.match(/\$/g) ?? []).length;
  if (dollars !== count) problems.push(`${dollars - count} '$' outside typed placeholders`);
  for (let i = 1; i <= parameters.length; i++) if (!used.has(i)) problems.push(`parameter $${i} is never referenced`);
  return { used, problems };
}

/**
 * The SQL with placeholders and identifiers taken out must be made only of the compiler's fixed
 * words, numbers, operators and string constants: no user text can hide in it.
 * `idents`: the names identifiers may have (undefined: any name the sanitiser accepts).
 */
export function checkResidue(sql: string, opts: { idents?: ReadonlySet<string>; words?: ReadonlySet<string>; numbers?: ReadonlySet<string> } = {}): string[] {
  const problems: string[] = [];
  const words = opts.words ?? EXPRESSION_WORDS;
  const numbers = opts.numbers ?? EXPRESSION_NUMBERS;
  let rest = sql.replace(PLACEHOLDER, ' ');
  rest = rest.replace(/"([^"]*)"/g, (_m, name: string) => {
    if (!IDENT.test(name)) problems.push(`identifier ${JSON.stringify(name)} is not one the sanitiser makes`);
    else if (opts.idents && !opts.idents.has(name)) problems.push(`identifier "${name}" is not a column of the input`);
    return ' ';
  });
  rest = rest.replace(/'[^']*'/g, (s) => {
    if (!FIXED_STRINGS.has(s)) problems.push(`string constant ${s} in the SQL text`);
    return ' ';
  });
  if (/--|\/\*|;/.test(rest)) problems.push('a comment or statement separator outside placeholders');
  const token = /\s+|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:e\d+)?|::|<=|>=|<>|=>|[-+*/%(),=<>[\]~]/y;
  let i = 0;
  while (i < rest.length) {
    token.lastIndex = i;
    const m = token.exec(rest);
    if (!m) { problems.push(`unexpected ${JSON.stringify(rest.slice(i, i + 20))} in the SQL text`); break; }
    const tok = m[0];
    if (/^[A-Za-z_]/.test(tok) && !words.has(tok)) problems.push(`word ${tok} is not in the compiler's vocabulary`);
    if (/^\d/.test(tok) && !numbers.has(tok)) problems.push(`number ${tok} written into the SQL text`);
    i = token.lastIndex;
  }
  return problems;
}

/** Every literal the user wrote is among the parameters (as a multiset: each literal its own). */
export function checkLiterals(lits: readonly Lit[], parameters: readonly unknown[]): string[] {
  const left = [...parameters];
  const problems: string[] = [];
  for (const l of lits) {
    const i = left.findIndex((p) => p === l.value);
    if (i < 0) problems.push(`literal ${JSON.stringify(l.value)} (${l.kind}) is not a parameter`);
    else left.splice(i, 1);
  }
  return problems;
}

/** Placeholders and residue of a whole compiled plan (identifiers: anything the sanitiser accepts). */
export function checkPlanSql(sql: string, parameters: readonly unknown[]): string[] {
  const problems = [...checkPlaceholders(sql, parameters).problems];
  let rest = sql.replace(PLACEHOLDER, ' ').replace(/"([^"]*)"/g, (_m, name: string) => {
    if (!IDENT.test(name)) problems.push(`identifier ${JSON.stringify(name)} is not one the sanitiser makes`);
    return ' ';
  });
  rest = rest.replace(/'[^']*'/g, (s) => {
    if (!FIXED_STRINGS.has(s)) problems.push(`string constant ${s} in the SQL text`);
    return ' ';
  });
  if (/--|\/\*|;|\$|"|\\/.test(rest)) problems.push(`stray characters outside placeholders: ${JSON.stringify(/--|\/\*|;|\$|"|\\/.exec(rest)?.[0])}`);
  return problems;
}
