import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH, MAX_IN_ITEMS } from '../../sandbox/expr/index.ts';
import { MAX_TEXT_LITERAL } from '../../sandbox/expr/check.ts';
import { exprArbitraries, GENERATED_FUNCTIONS, nested, randomText, textLiteralOf, tokenSoup, type Gen } from './expr-arbitraries.ts';
import { columnsOf, DATASETS, fuzzRuns, refusalProblems, runExpression, Tally } from './fuzz-support.ts';
import { checkLiterals, checkPlaceholders, checkPlanSql, checkResidue } from './sql-shape.ts';

/**
 * The expression parser, checker and compiler under generated input. Whatever the text, parsing
 * and checking end in a compiled expression or a LabError with an expression code (LAB-E050–E054)
 * and a span inside the text; a compiled expression is SQL whose only user values are `$n`
 * placeholders, numbered 1..n for its n parameters, every literal the user wrote among them, and
 * whose only identifiers are the input's columns as the sanitiser quotes them.
 */

const tally = new Tally('expressions');
afterAll(() => { console.log(tally.report()); });

const perDataset = <T>(make: (ds: (typeof DATASETS)[number]) => fc.Arbitrary<T>): fc.Arbitrary<{ ds: (typeof DATASETS)[number]; value: T }> =>
  fc.oneof(...DATASETS.map((ds) => make(ds).map((value) => ({ ds, value }))));

/** Checks one expression; returns its outcome kind. Fails the property on anything wrong. */
function check(ds: (typeof DATASETS)[number], src: string, lits?: Gen['lits']): 'compiled' | 'refused' {
  const columns = columnsOf(ds);
  const out = runExpression(src, columns);
  if (out.kind === 'refused') {
    expect(refusalProblems(out.error, src), `${src} → ${out.error.code} ${out.error.message}`).toEqual([]);
    return 'refused';
  }
  const problems = [
    ...checkPlaceholders(out.sql, out.parameters).problems,
    ...checkResidue(out.sql, { idents: new Set(columns.map((c) => c.name)) }),
    ...(lits ? checkLiterals(lits, out.parameters) : []),
  ];
  expect(problems, `${src}\n→ ${out.sql}\n  ${JSON.stringify(out.parameters)}`).toEqual([]);
  // Deterministic: the worker compiles the same text again and must get the same query.
  const again = runExpression(src, columns);
  expect(again.kind === 'compiled' && again.sql === out.sql && JSON.stringify(again.parameters) === JSON.stringify(out.parameters)).toBe(true);
  return 'compiled';
}

describe('the SQL checks catch what they look for', () => {
  it('an inlined literal, a stray or missing placeholder, a foreign identifier, a comment', () => {
    const idents = new Set(['name', 'wage']);
    expect(checkResidue(`("name" = 'abc')`, { idents })).toEqual(['string constant \'abc\' in the SQL text']);
    expect(checkResidue('("wage" > 12345)', { idents })).toEqual(['number 12345 written into the SQL text']);
    expect(checkResidue('("wage" > pg_sleep)', { idents })).toEqual(['word pg_sleep is not in the compiler\'s vocabulary']);
    expect(checkResidue('("person"."wage" > $1::bigint)', { idents })).toContain('identifier "person" is not a column of the input');
    expect(checkResidue('("wage" > $1::bigint) -- x', { idents })).toContain('a comment or statement separator outside placeholders');
    expect(checkResidue(`(date_part('year', "wage") > $1::bigint)`, { idents })).toEqual([]);
    expect(checkPlaceholders('($2::text = $2::text)', ['a', 'b']).problems).toEqual(['parameter $1 is never referenced']);
    expect(checkPlaceholders('($1::text = $3::text)', ['a', 'b']).problems).toEqual(['$3 has no parameter (2 given)', 'parameter $2 is never referenced']);
    expect(checkPlaceholders('($1::bigint = $1)', [1]).problems).toEqual(["1 '$' outside typed placeholders"]);
    expect(checkPlaceholders('($1::date > $2::bigint)', ['x', 1.5]).problems).toEqual(['$1::date holds "x"', '$2::bigint holds 1.5']);
    expect(checkLiterals([{ kind: 'text', value: "it's" }, { kind: 'number', value: 7 }], ["it's"])).toEqual(['literal 7 (number) is not a parameter']);
    expect(checkPlanSql(`SELECT "a" FROM "t" WHERE "a" = 'x'`, [])).toEqual(["string constant 'x' in the SQL text"]);
  });
});

describe('expression fuzzing: parse → check → compile', () => {
  it('every whitelisted function is generated', () => {
    expect([...GENERATED_FUNCTIONS].sort()).toEqual(FUNCTIONS.map((f) => f.name).sort());
  });

  it('token soups and random text: a compiled expression or an expression error', () => {
    const arb = fc.oneof(
      perDataset((ds) => tokenSoup(columnsOf(ds).map((c) => c.name))),
      perDataset(() => randomText),
    );
    fc.assert(fc.property(arb, ({ ds, value }) => { tally.add(`soup ${check(ds, value)}`); }), fuzzRuns(30_000));
  });

  it('well-typed expressions over catalog columns: literals reach SQL only as parameters', () => {
    const arbs = new Map(DATASETS.map((ds) => [ds.id, exprArbitraries({ columns: columnsOf(ds), maxDepth: 4, sloppy: false })]));
    const arb = perDataset((ds) => {
      const a = arbs.get(ds.id);
      if (!a) throw new Error(ds.id);
      return fc.oneof(a.condition, a.any);
    });
    const before = tally.get('typed compiled');
    fc.assert(fc.property(arb, ({ ds, value }) => { tally.add(`typed ${check(ds, value.src, value.lits)}`); }), fuzzRuns(35_000));
    // The generator must mostly write valid expressions, or this property would test little.
    const runs = fuzzRuns(35_000).numRuns;
    expect(tally.get('typed compiled') - before).toBeGreaterThan(runs * 0.6);
  });

  it('sloppy expressions (wrong types, unknown names, wrong arity) over catalog columns', () => {
    const arbs = new Map(DATASETS.map((ds) => [ds.id, exprArbitraries({ columns: columnsOf(ds), maxDepth: 4, sloppy: true })]));
    const arb = perDataset((ds) => {
      const a = arbs.get(ds.id);
      if (!a) throw new Error(ds.id);
      return a.any;
    });
    fc.assert(fc.property(arb, ({ ds, value }) => { tally.add(`sloppy ${check(ds, value.src, value.lits)}`); }), fuzzRuns(20_000));
  });

  it(`nesting near the depth limit (${MAX_EXPRESSION_DEPTH}): compiled when shallow enough, LAB-E054 when too deep, never a stack overflow`, () => {
    const person = DATASETS.find((d) => d.id === 'registry.person');
    if (!person) throw new Error('registry.person');
    const columns = columnsOf(person);
    const arb = nested(fc.constantFrom('person_id', 'household_id', '7', 'length(name)'), MAX_EXPRESSION_DEPTH - 12, MAX_EXPRESSION_DEPTH + 12);
    fc.assert(fc.property(arb, (n) => {
      const out = runExpression(n.src, columns);
      // The tree: the comparison, each wrapper that adds a node, the core (one or two levels).
      // Parser recursion: one level per wrapper, one more for length(name).
      const least = 2 + n.astLayers;
      const most = 3 + n.layers;
      if (out.kind === 'refused') {
        expect(out.error.code, `${n.src}: ${out.error.message}`).toBe('LAB-E054');
        expect(most, n.src).toBeGreaterThan(MAX_EXPRESSION_DEPTH);
        tally.add('nested refused');
      } else {
        expect(least, n.src).toBeLessThanOrEqual(MAX_EXPRESSION_DEPTH);
        expect(checkPlaceholders(out.sql, out.parameters).problems).toEqual([]);
        tally.add('nested compiled');
      }
    }), fuzzRuns(3_000));
    // Far beyond: thousands of levels of every kind are refused, not a RangeError.
    for (const deep of ['('.repeat(3000) + '1' + ')'.repeat(3000), '- '.repeat(3900) + '1', 'NOT '.repeat(1900) + 'TRUE', Array(2600).fill('1').join('+') + ' > 0',
      'abs('.repeat(1500) + '1' + ')'.repeat(1500), 'CASE WHEN TRUE THEN '.repeat(350) + '1' + ' END'.repeat(350)]) {
      const out = runExpression(deep, columns);
      expect(out.kind === 'refused' && out.error.code, deep.slice(0, 40)).toBe('LAB-E054');
      tally.add('deep refused');
    }
  });

  it(`lengths at the limits: ${MAX_EXPRESSION_LENGTH} characters, ${MAX_TEXT_LITERAL}-character text, ${MAX_IN_ITEMS} IN items`, () => {
    const person = DATASETS.find((d) => d.id === 'registry.person');
    if (!person) throw new Error('registry.person');
    const columns = columnsOf(person);
    const limits = fc.oneof(
      // The whole text: padding with spaces after a valid condition.
      fc.integer({ min: MAX_EXPRESSION_LENGTH - 5, max: MAX_EXPRESSION_LENGTH + 5 }).map((n) => ({ src: 'sex = \'M\''.padEnd(n, ' '), over: n > MAX_EXPRESSION_LENGTH })),
      // One text literal.
      fc.tuple(fc.integer({ min: MAX_TEXT_LITERAL - 3, max: MAX_TEXT_LITERAL + 3 }), textLiteralOf(fc.constant('x')))
        .map(([n, q]) => ({ src: `name = ${q.src.replace('x', 'é'.repeat(n))}`, over: n > MAX_TEXT_LITERAL })),
      // An IN list.
      fc.integer({ min: MAX_IN_ITEMS - 3, max: MAX_IN_ITEMS + 3 }).map((n) => ({ src: `person_id IN (${Array.from({ length: n }, (_, i) => i).join(',')})`, over: n > MAX_IN_ITEMS })),
    );
    fc.assert(fc.property(limits, ({ src, over }) => {
      const out = runExpression(src, columns);
      if (over) expect(out.kind === 'refused' && out.error.code).toBe('LAB-E054');
      else expect(out.kind, out.kind === 'refused' ? out.error.message : '').toBe('compiled');
      tally.add(over ? 'limit refused' : 'limit compiled');
    }), fuzzRuns(300));
  });
});
