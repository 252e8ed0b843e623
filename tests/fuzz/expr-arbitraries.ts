import fc from 'fast-check';
import type { ColumnInfo, ExprType } from '../../sandbox/expr/index.ts';
import { FUNCTIONS } from '../../sandbox/expr/index.ts';

/**
 * fast-check arbitraries for the expression language (sandbox/expr): token soups and random text,
 * and grammar-aware expressions over real catalog columns that mostly type-check, each carrying the
 * literal values written into it (what must reach SQL as bind parameters, and only that way).
 */

/** A literal as the user meant it, and the bind parameter it must become. */
export type Lit =
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number | string }
  | { readonly kind: 'date'; readonly value: string };

/**
 * Generated expression text and the literals in it. `prec`: how tightly the text binds (see PREC),
 * so that an operand is put in parentheses exactly when the grammar needs them.
 */
export interface Gen { readonly src: string; readonly lits: readonly Lit[]; readonly prec?: number }
type G = fc.Arbitrary<Gen>;
type Part = string | G;

/** Binding strength of the grammar's levels (EXPRESSION_GRAMMAR): an atom binds tightest. */
const PREC = { or: 1, and: 2, not: 3, predicate: 4, sum: 5, product: 6, unary: 7, atom: 8 } as const;

export type ValueType = Exclude<ExprType, 'null'>;
export const VALUE_TYPES: readonly ValueType[] = ['int', 'numeric', 'text', 'date', 'boolean'];

const g = (src: string, lits: readonly Lit[] = [], prec: number = PREC.atom): Gen => ({ src, lits, prec });
const constant = (src: string): G => fc.constant(g(src));
const words = (a: fc.Arbitrary<string>): G => a.map((s) => g(s));

/** Parts joined by single spaces (the lexer ignores whitespace between tokens). */
export function seq(...parts: Part[]): G {
  return fc.tuple(...parts.map((p) => (typeof p === 'string' ? constant(p) : p))).map((xs) => g(xs.map((x) => x.src).join(' '), xs.flatMap((x) => x.lits)));
}
/** `x`, in parentheses when it binds less tightly than `min`. */
const operand = (min: number, x: G): G => x.chain((v) => ((v.prec ?? PREC.atom) >= min ? fc.constant(v) : paren(fc.constant(v))));
/** Parts at binding level `prec`. */
const at = (prec: number, ...parts: Part[]): G => seq(...parts).map((v) => ({ ...v, prec }));
/** A left-associative binary operator of level `prec`. */
const binary = (prec: number, l: G, op: G, r: G): G => at(prec, operand(prec, l), op, operand(prec + 1, r));
/** `items` joined with commas (ASCII or full-width, as Chinese input methods type them). */
function commaList(items: readonly G[]): G {
  if (items.length === 0) return constant('');
  const parts: Part[] = [];
  items.forEach((it, i) => { if (i > 0) parts.push(comma); parts.push(it); });
  return seq(...parts);
}
const weighted = (...xs: [number, G][]): G => fc.oneof(...xs.filter(([w]) => w > 0).map(([weight, arbitrary]) => ({ weight, arbitrary })));

const lparen = words(fc.constantFrom('(', '(', '(', '（'));
const rparen = words(fc.constantFrom(')', ')', ')', '）'));
const comma = words(fc.constantFrom(',', ',', ',', '，'));
/** A keyword in any letter case. */
export const kw = (k: string): G => words(fc.constantFrom(k, k, k.toLowerCase(), k[0] + k.slice(1).toLowerCase()));
const call = (name: string, ...args: G[]): G => seq(words(fc.constantFrom(name, name, name.toUpperCase())), lparen, commaList(args), rparen);
const paren = (x: G): G => seq(lparen, x, rparen);

// ---------------------------------------------------------------- literals

const digitsLiteral = (digits: string): Gen => {
  const n = Number(digits);
  return g(digits, [{ kind: 'number', value: Number.isSafeInteger(n) ? n : digits }]);
};
/** A non-negative integer literal up to 2^53 − 1 (an int); the parameter is its number. */
export const intLiteral: G = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 200 }).map(String) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 2 ** 31 + 5 }).map(String) },
  { weight: 2, arbitrary: fc.maxSafeNat().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '00', '007', '9007199254740991') },
).map(digitsLiteral);
/** Integer digits beyond 2^53 − 1: the parser makes them numeric, and the parameter is the text. */
export const bigLiteral: G = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }).map(String),
  fc.constantFrom('9007199254740992', '9223372036854775807', '9223372036854775808', '1' + '0'.repeat(80)),
).map(digitsLiteral);

/** A decimal literal as written (`12.50`, `.5`); it reaches SQL as its text. */
export const numericLiteral: G = fc.tuple(fc.option(fc.nat({ max: 1e9 }), { nil: undefined }), fc.stringMatching(/^[0-9]{1,12}$/))
  .map(([whole, frac]) => {
    const text = `${whole === undefined ? '' : String(whole)}.${frac}`;
    return g(text, [{ kind: 'number', value: text }]);
  });

/** Fragments that would break out of a quoted SQL string, start a comment, or read a placeholder. */
export const HOSTILE_FRAGMENTS: readonly string[] = [
  "'", "''", "'''", '\\', "\\'", '$1', '$2::text', '$$', '$tag$', '--', '/*', '*/', ';', '"', '"person"', "E'\\x41'", '%s', '%',
  '${x}', 'DROP TABLE person;', "' OR '1'='1", "'); DELETE FROM person; --", ')', '(', ', 1)', '::date', 'NULL', '\u202e', '\u200b', '\ufeff',
  '😀', '𠀀', '华', '测试', '\r\n', '\u2028', '\t', ' ', 'é', 'e\u0301', '\u3000', '`', '\u007f', '\u0001', '\\0', '\\u0000',
];

/** Text values: hostile fragments, any Unicode (no NUL, no unpaired surrogates), ASCII; sometimes near the 1000-character limit. */
export const textValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 25, arbitrary: fc.array(fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 6 }).map((xs) => xs.join('')) },
  { weight: 15, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 10, arbitrary: fc.constantFrom('active', 'floating', 'local', 'M', 'F', '', '2026-01-01', '4401', '440104') },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 990, max: 1005 }), fc.constantFrom('x', "'", '华', '$1', "'--")).map(([n, c]) => c.repeat(n).slice(0, n)) },
).map((s) => s.replace(/[\u0000‘’]/g, '_'));

/** A quoted text literal: quotes doubled; delimited by ASCII or Chinese quotes. */
export const textLiteralOf = (value: fc.Arbitrary<string>): G => fc.tuple(value, fc.constantFrom(["'", "'"], ["'", "'"], ['‘', '’'], ["'", '’']))
  .map(([v, [open, close]]) => g(`${open}${v.replaceAll("'", "''")}${close}`, [{ kind: 'text', value: v }]));
export const textLiteral: G = textLiteralOf(textValue);

const pad = (n: number, w: number) => String(n).padStart(w, '0');
/** Calendar dates from 0001-01-01 to 9999-12-31, with the edges and leap days more often. */
export const isoDate: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
    .map((d) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`) },
  { weight: 1, arbitrary: fc.constantFrom('0001-01-01', '9999-12-31', '2000-02-29', '1900-03-01', '2026-06-30', '1970-01-01', '1582-10-10') },
);
export const dateLiteralOf = (date: fc.Arbitrary<string>): G => fc.tuple(kw('DATE'), date).map(([k, d]) => g(`${k.src} '${d}'`, [{ kind: 'date', value: d }]));
export const dateLiteral: G = dateLiteralOf(isoDate);
/** A text literal holding an ISO date: compares with a date column. */
const dateText: G = isoDate.map((d) => g(`'${d}'`, [{ kind: 'date', value: d }]));

/** Increasing integer boundaries for bucket(), some negative (written with a unary minus). */
const bucketBounds: G = fc.uniqueArray(fc.integer({ min: -10_000, max: 10_000 }), { minLength: 2, maxLength: 20 })
  .map((xs) => [...xs].sort((a, b) => a - b))
  .chain((xs) => commaList(xs.map((v) => fc.constant(g(v < 0 ? `- ${-v}` : String(v), [{ kind: 'number', value: Math.abs(v) }])))));

// ---------------------------------------------------------------- typed expressions

/** Every whitelisted function the typed generator below writes calls of (a test checks it covers FUNCTIONS). */
export const GENERATED_FUNCTIONS: readonly string[] = [
  'age', 'as_of', 'year', 'month', 'quarter', 'month_start', 'days_between', 'months_between', 'add_days', 'add_months',
  'age_from_id', 'birth_date_from_id', 'sex_from_id', 'region_of_id', 'province_of_id',
  'length', 'lower', 'upper', 'trim', 'substr', 'starts_with', 'ends_with', 'contains',
  'abs', 'round', 'floor', 'ceil', 'bucket', 'coalesce', 'nullif', 'greatest', 'least',
];

export interface ExprArbitraryOptions {
  /** Columns of the input (ColumnInfo as the validator infers them). */
  readonly columns: readonly ColumnInfo[];
  /** Levels of compound expressions (the depth limit is 64: use `nested` to go near it). */
  readonly maxDepth: number;
  /**
   * Sloppy expressions: now and then a sub-expression of the wrong type, an unknown function or
   * column, a wrong number of arguments, NULL where a value is wanted. Otherwise, apart from
   * NULL literals and limits (long text), the expressions type-check.
   */
  readonly sloppy: boolean;
}

/** Function names outside the whitelist that an attacker would try first. */
const FOREIGN_FUNCTIONS = ['pg_sleep', 'current_user', 'version', 'lo_import', 'random', 'now', 'set_config', 'query_to_xml', 'pg_read_file', 'dblink', 'concat', 'count', 'sum', 'string_agg', 'row_number', 'age2', 'Age_'];

export interface ExprArbitraries {
  of(type: ValueType, depth?: number): G;
  /** Any type. */
  readonly any: G;
  /** A boolean condition (a filter). */
  readonly condition: G;
}

/** Grammar-aware expressions over `columns`. */
export function exprArbitraries(opts: ExprArbitraryOptions): ExprArbitraries {
  const colsOf = (ty: ValueType) => opts.columns.filter((c) => c.type === ty).map((c) => c.name);
  const column = (ty: ValueType): G | undefined => {
    const names = colsOf(ty);
    return names.length ? words(fc.constantFrom(...names).chain((n) => fc.constantFrom(n, n, n.toUpperCase()))) : undefined;
  };
  const nul = kw('NULL');
  const nullW = opts.sloppy ? 4 : 1;

  const leaves: Record<ValueType, G> = {
    int: weighted([8, column('int') ?? intLiteral], [8, intLiteral], [nullW, nul]),
    numeric: weighted([6, column('numeric') ?? numericLiteral], [6, numericLiteral], [2, intLiteral], [2, bigLiteral], [nullW, nul]),
    text: weighted([8, column('text') ?? textLiteral], [8, textLiteral], [nullW, nul]),
    date: weighted([8, column('date') ?? dateLiteral], [6, dateLiteral], [2, call('as_of')], [nullW, nul]),
    boolean: weighted([4, kw('TRUE')], [4, kw('FALSE')], [4, column('boolean') ?? kw('TRUE')], [2, at(PREC.predicate, column('text') ?? textLiteral, kw('IS'), kw('NULL'))], [nullW, nul]),
  };

  const memo = new Map<string, G>();
  const of = (ty: ValueType, depth: number = opts.maxDepth): G => {
    const key = `${ty}:${depth}`;
    const hit = memo.get(key);
    if (hit) return hit;
    const built = depth <= 0 ? leaves[ty] : fc.oneof(
      { weight: 3, arbitrary: leaves[ty] },
      { weight: 5, arbitrary: compound(ty, depth - 1) },
      ...(opts.sloppy ? [{ weight: 1, arbitrary: sloppy(depth - 1) }] : []),
    );
    memo.set(key, built);
    return built;
  };
  const anyOf = (depth: number): G => fc.constantFrom(...VALUE_TYPES).chain((t) => of(t, depth));

  /** Wrong on purpose: an unknown function or column, a wrong arity, a value of another type. */
  function sloppy(d: number): G {
    const fnName = fc.constantFrom(...FUNCTIONS.map((f) => f.name), ...FOREIGN_FUNCTIONS);
    return fc.oneof(
      anyOf(d),
      fc.tuple(fnName, fc.array(anyOf(Math.max(0, d - 1)), { maxLength: 4 })).chain(([name, args]) => call(name, ...args.map((a) => fc.constant(a)))),
      words(fc.constantFrom('no_such_column', 'person', 'n0', '_x', 'a1b2', 'id_numbe', 'name_', 'x'.repeat(70))),
      fc.constantFrom(...FOREIGN_FUNCTIONS).chain((f) => call(f, anyOf(0))),
      seq(kw('DATE'), textLiteral),
      bigLiteral,
    );
  }

  function generic(ty: ValueType, d: number): G {
    const x = of(ty, d);
    const b = of('boolean', d);
    const list = (min: number, max: number) => fc.array(x, { minLength: min, maxLength: max }).chain((xs) => commaList(xs.map((v) => fc.constant(v))));
    return fc.oneof(
      seq(words(fc.constantFrom('coalesce', 'greatest', 'least', 'COALESCE')), lparen, list(2, 4), rparen),
      call('nullif', x, x),
      fc.tuple(fc.array(seq(kw('WHEN'), b, kw('THEN'), x), { minLength: 1, maxLength: 3 }), fc.option(seq(kw('ELSE'), x), { nil: undefined }))
        .chain(([whens, otherwise]) => seq(kw('CASE'), ...whens.map((w) => fc.constant(w)), ...(otherwise ? [fc.constant(otherwise)] : []), kw('END'))),
      paren(x),
    );
  }

  function compound(ty: ValueType, d: number): G {
    const int = of('int', d);
    const num = fc.oneof(of('int', d), of('numeric', d));
    const text = of('text', d);
    const date = of('date', d);
    const bool = of('boolean', d);
    const sumOp = (ops: readonly string[], l: G, r: G) => binary(PREC.sum, l, words(fc.constantFrom(...ops)), r);
    const productOp = (ops: readonly string[], l: G, r: G) => binary(PREC.product, l, words(fc.constantFrom(...ops)), r);
    const minus = (x: G) => at(PREC.unary, '-', operand(PREC.unary, x));
    switch (ty) {
      case 'int':
        return fc.oneof(
          { weight: 2, arbitrary: sumOp(['+', '-'], int, int) },
          { weight: 2, arbitrary: productOp(['*', '%'], int, int) },
          { weight: 1, arbitrary: minus(int) },
          { weight: 1, arbitrary: sumOp(['-'], date, date) },
          { weight: 4, arbitrary: fc.oneof(
            call('length', text), call('age', date), call('year', date), call('month', date), call('quarter', date),
            call('days_between', date, date), call('months_between', date, date), call('age_from_id', text),
            call('floor', num), call('ceil', num), call('abs', int),
          ) },
          { weight: 2, arbitrary: generic('int', d) },
        );
      case 'numeric':
        return fc.oneof(
          { weight: 3, arbitrary: productOp(['/'], num, num) },
          { weight: 1, arbitrary: productOp(['*'], of('numeric', d), num) },
          { weight: 1, arbitrary: sumOp(['+', '-'], of('numeric', d), num) },
          { weight: 1, arbitrary: minus(of('numeric', d)) },
          { weight: 2, arbitrary: fc.oneof(call('round', num), call('round', num, int), call('abs', of('numeric', d))) },
          { weight: 2, arbitrary: generic('numeric', d) },
        );
      case 'text':
        return fc.oneof(
          { weight: 4, arbitrary: fc.oneof(
            call('lower', text), call('upper', text), call('trim', text), call('substr', text, int), call('substr', text, int, int),
            call('sex_from_id', text), call('region_of_id', text), call('province_of_id', text),
          ) },
          { weight: 2, arbitrary: seq(words(fc.constantFrom('bucket', 'BUCKET')), lparen, int, comma, bucketBounds, rparen) },
          { weight: 2, arbitrary: generic('text', d) },
        );
      case 'date':
        return fc.oneof(
          { weight: 2, arbitrary: sumOp(['+', '-'], date, int) },
          { weight: 4, arbitrary: fc.oneof(call('month_start', date), call('add_days', date, int), call('add_months', date, int), call('birth_date_from_id', text)) },
          { weight: 2, arbitrary: generic('date', d) },
        );
      case 'boolean': {
        const cmp = words(fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>='));
        const comparable = fc.constantFrom<ValueType>('int', 'numeric', 'text', 'date', 'boolean', 'int', 'text', 'date');
        const s = (t: ValueType) => operand(PREC.sum, of(t, d));
        const maybeNot = (k: string) => fc.boolean().chain((n) => (n ? seq(kw('NOT'), kw(k)) : kw(k)));
        return fc.oneof(
          { weight: 5, arbitrary: comparable.chain((t) => at(PREC.predicate, s(t), cmp, s(t))) },
          { weight: 1, arbitrary: fc.oneof(at(PREC.predicate, operand(PREC.sum, date), cmp, dateText), at(PREC.predicate, dateText, cmp, operand(PREC.sum, date))) },
          { weight: 2, arbitrary: comparable.chain((t) => at(PREC.predicate, s(t), maybeNot('BETWEEN'), s(t), kw('AND'), s(t))) },
          { weight: 2, arbitrary: comparable.chain((t) => at(PREC.predicate, s(t), maybeNot('IN'), lparen,
            fc.array(of(t, Math.max(0, d - 1)), { minLength: 1, maxLength: 6 }).chain((xs) => commaList(xs.map((x) => fc.constant(x)))), rparen)) },
          { weight: 1, arbitrary: fc.constantFrom<ValueType>(...VALUE_TYPES).chain((t) => at(PREC.predicate, s(t), kw('IS'), fc.boolean().chain((n) => (n ? seq(kw('NOT'), kw('NULL')) : kw('NULL'))))) },
          { weight: 2, arbitrary: at(PREC.not, kw('NOT'), operand(PREC.not, bool)) },
          { weight: 2, arbitrary: binary(PREC.and, bool, kw('AND'), bool) },
          { weight: 2, arbitrary: binary(PREC.or, bool, kw('OR'), bool) },
          { weight: 2, arbitrary: fc.oneof(call('starts_with', text, text), call('ends_with', text, text), call('contains', text, text)) },
          { weight: 1, arbitrary: generic('boolean', d) },
        );
      }
    }
  }

  return { of, any: anyOf(opts.maxDepth), condition: of('boolean', opts.maxDepth) };
}

// ---------------------------------------------------------------- nesting near the limit

/**
 * One level of nesting around an int expression `x`: `ast` says whether it adds a level to the
 * syntax tree. Each adds one level of parser recursion; none changes how the inner text parses.
 */
const INT_WRAPPERS: readonly { readonly wrap: (x: string) => string; readonly ast: boolean }[] = [
  { wrap: (x) => `(${x})`, ast: false },
  { wrap: (x) => `- ${x}`, ast: true },
  { wrap: (x) => `abs(${x})`, ast: true },
  { wrap: (x) => `coalesce(${x}, 1)`, ast: true },
  { wrap: (x) => `(${x} + 1)`, ast: true },
  { wrap: (x) => `(${x} * 1)`, ast: true },
  { wrap: (x) => `CASE WHEN TRUE THEN ${x} END`, ast: true },
  { wrap: (x) => `greatest(${x}, 2, 3)`, ast: true },
  { wrap: (x) => `floor(${x})`, ast: true },
];

export interface Nested { readonly src: string; readonly layers: number; readonly astLayers: number }

/** `core` (an int column or literal) inside `layers` wrappers, compared with 0 (so it is a condition). */
export const nested = (core: fc.Arbitrary<string>, minLayers: number, maxLayers: number): fc.Arbitrary<Nested> =>
  fc.tuple(core, fc.array(fc.nat({ max: INT_WRAPPERS.length - 1 }), { minLength: minLayers, maxLength: maxLayers }))
    .map(([c, picks]) => {
      let src = c;
      let astLayers = 0;
      for (const i of picks) {
        const w = INT_WRAPPERS[i] ?? INT_WRAPPERS[0];
        if (!w) continue;
        src = w.wrap(src);
        if (w.ast) astLayers++;
      }
      return { src: `${src} > 0`, layers: picks.length, astLayers };
    });

// ---------------------------------------------------------------- token soups and random text

/** Tokens of the language and of SQL, junk characters and literals, in any order. */
export const tokenSoup = (columns: readonly string[]): fc.Arbitrary<string> => {
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'IS', 'NULL', 'TRUE', 'FALSE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'DATE', 'and', 'null', 'case') },
    { weight: 4, arbitrary: fc.constantFrom('(', ')', '（', '）', ',', '，', '=', '!=', '<>', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '||', '::', '.', '..') },
    { weight: 3, arbitrary: fc.constantFrom(...columns, ...GENERATED_FUNCTIONS, ...FOREIGN_FUNCTIONS) },
    { weight: 3, arbitrary: fc.oneof(intLiteral, numericLiteral, textLiteral, dateLiteral).map((x) => x.src) },
    { weight: 2, arbitrary: fc.constantFrom(';', '"', '$', '$1', '#', '@', '[', ']', '{', '}', '\\', '--', '/*', '*/', '`', '?', ':', '!', '~', '^', '&', '|', "'", '‘', '’', '"x"', '1e5', '0x1F', '1.2.3', '3abc', '\u0000', '\ud800', 'ℕ', '٣') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
  );
  return fc.tuple(fc.array(token, { maxLength: 30 }), fc.array(fc.constantFrom(' ', ' ', ' ', '', '\n', '\t', '\u3000', '\u00a0'), { maxLength: 30 }))
    .map(([ts, ws]) => ts.map((t, i) => t + (ws[i] ?? ' ')).join(''));
};

/** Random text of every sort, including unpaired surrogates and NUL. */
export const randomText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...'()\'",.+-*/%<>=!0123456789 abcdeINOTANDRCASEWHL_（），‘’'.split('')), maxLength: 60 }),
);
