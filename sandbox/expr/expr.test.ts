import { describe, expect, it } from 'vitest';
import type { Expr } from './ast.ts';
import { checkExpression, parseExpression, type ColumnInfo } from './index.ts';

const cols: ColumnInfo[] = [
  { name: 'id_number', type: 'text', semantic: 'id_number', level: 'L4', identifierOrigins: ['id_number'] },
  { name: 'name', type: 'text', semantic: 'name', level: 'L3', identifierOrigins: ['name'] },
  { name: 'sex', type: 'text', semantic: 'category', level: 'L2', identifierOrigins: [] },
  { name: 'birth_date', type: 'date', semantic: 'date', level: 'L3', identifierOrigins: [] },
  { name: 'district_code', type: 'text', semantic: 'geo_code', level: 'L1', identifierOrigins: [] },
  { name: 'monthly_wage', type: 'int', semantic: 'measure', level: 'L3', identifierOrigins: [] },
  { name: 'urban_village', type: 'boolean', semantic: 'flag', level: 'L1', identifierOrigins: [] },
];

const check = (src: string) => checkExpression(parseExpression(src), cols);

/** Renders a tree with explicit parentheses, to assert precedence. */
const show = (e: Expr): string => {
  switch (e.kind) {
    case 'column': return e.name;
    case 'literal': return e.type === 'text' ? `'${String(e.value)}'` : String(e.value);
    case 'unary': return `(${e.op} ${show(e.operand)})`;
    case 'binary': return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'between': return `(${show(e.operand)} ${e.negated ? 'NOT ' : ''}BETWEEN ${show(e.low)} AND ${show(e.high)})`;
    case 'in': return `(${show(e.operand)} ${e.negated ? 'NOT ' : ''}IN ${e.items.map(show).join(',')})`;
    case 'isNull': return `(${show(e.operand)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
    case 'case': return `CASE ${e.whens.map((w) => `${show(w.when)}→${show(w.then)}`).join(' ')}${e.otherwise ? ` ELSE ${show(e.otherwise)}` : ''}`;
    case 'call': return `${e.name}(${e.args.map(show).join(',')})`;
  }
};

describe('parser', () => {
  it.each([
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['a = 1 OR b = 2 AND c = 3', '((a = 1) OR ((b = 2) AND (c = 3)))'],
    ['NOT a = 1 AND b', '((NOT (a = 1)) AND b)'],
    ['-x * 2', '((- x) * 2)'],
    ['age(birth_date) BETWEEN 60 AND 79', '(age(birth_date) BETWEEN 60 AND 79)'],
    ["sex NOT IN ('M', 'F')", "(sex NOT IN 'M','F')"],
    ['x IS NOT NULL', '(x IS NOT NULL)'],
    ["CASE WHEN a > 1 THEN 'big' ELSE 'small' END", "CASE (a > 1)→'big' ELSE 'small'"],
    ['a <> 1', '(a != 1)'],
    ['（a + 1）', '(a + 1)'],
    ['Sex = \'M\'', "(sex = 'M')"],
  ])('%s', (src, expected) => {
    expect(show(parseExpression(src))).toBe(expected);
  });

  it('keeps quotes inside strings and accepts doubled quotes', () => {
    const e = parseExpression("name = 'O''Brien; DROP TABLE person --'");
    expect(e.kind === 'binary' && e.right.kind === 'literal' && e.right.value).toBe("O'Brien; DROP TABLE person --");
  });

  it.each([
    ['', 'LAB-E050'],
    ['1 +', 'LAB-E050'],
    ["'open", 'LAB-E050'],
    ['a = = 1', 'LAB-E050'],
    ['a ; DROP TABLE x', 'LAB-E050'],
    ["DATE '2026-02-30'", 'LAB-E050'],
    ['f(1,', 'LAB-E050'],
    ['CASE ELSE 1 END', 'LAB-E050'],
    ['12abc', 'LAB-E050'],
    ['a = 1)', 'LAB-E050'],
  ])('refuses %j with %s and a span', (src, code) => {
    try {
      parseExpression(src);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code });
      expect((e as { span?: unknown }).span).toBeDefined();
    }
  });

  it('refuses nesting deeper than 64 without overflowing the stack', () => {
    expect(() => parseExpression('('.repeat(65) + '1' + ')'.repeat(65))).toThrow(expect.objectContaining({ code: 'LAB-E054' }));
    expect(() => parseExpression('('.repeat(100_000))).toThrow(expect.objectContaining({ code: 'LAB-E054' }));
    expect(() => parseExpression(Array.from({ length: 70 }, () => 'a').join(' + '))).toThrow(expect.objectContaining({ code: 'LAB-E054' }));
    expect(() => parseExpression('('.repeat(30) + '1' + ')'.repeat(30))).not.toThrow();
  });

  it('refuses overlong text', () => {
    expect(() => parseExpression('a + '.repeat(3000) + '1')).toThrow(expect.objectContaining({ code: 'LAB-E054' }));
  });
});

describe('checker', () => {
  it('types and classifies', () => {
    expect(check('age(birth_date) >= 60').info).toMatchObject({ type: 'boolean', level: 'L3', identifierOrigins: [] });
    expect(check('monthly_wage / 2').info).toMatchObject({ type: 'numeric', semantic: 'measure', level: 'L3' });
    expect(check("bucket(age(birth_date), 0, 15, 25, 45, 60, 80)").info).toMatchObject({ type: 'text', semantic: 'category', level: 'L3', identifierOrigins: [] });
    expect(check("birth_date < '1960-01-01'").info.type).toBe('boolean');
    expect(check("CASE WHEN urban_village THEN district_code ELSE 'other' END").info).toMatchObject({ type: 'text', level: 'L1' });
  });

  it('an identifier stays an identifier through any derivation (I3)', () => {
    for (const src of ['id_number', 'substr(id_number, 1, 6)', 'lower(name)', 'length(name)', "starts_with(id_number, '4401')",
      "CASE WHEN sex = 'M' THEN name ELSE 'x' END", 'coalesce(name, sex)', "CASE WHEN starts_with(id_number, '44') THEN 'gd' ELSE 'other' END"]) {
      const info = check(src).info;
      expect(info.identifierOrigins.length, src).toBeGreaterThan(0);
    }
    expect(check('substr(id_number, 1, 6)').info.level).toBe('L4');
  });

  it('only the derivations the catalog declares safe drop the identifier', () => {
    expect(check('region_of_id(id_number)').info).toMatchObject({ identifierOrigins: [], semantic: 'category', level: 'L2' });
    expect(check('age_from_id(id_number)').info).toMatchObject({ identifierOrigins: [], level: 'L3' });
    expect(check('sex_from_id(id_number)').info).toMatchObject({ identifierOrigins: [] });
    // a safe function applied to a non-ID identifier is not safe
    expect(check('region_of_id(name)').info.identifierOrigins).toEqual(['name']);
    // a safe function applied to something already rewritten is not safe either
    expect(check('region_of_id(lower(id_number))').info.identifierOrigins).toEqual(['id_number']);
  });

  it.each([
    ['nope = 1', 'LAB-E052'],
    ['frobnicate(sex)', 'LAB-E053'],
    ['pg_sleep(10)', 'LAB-E053'],
    ["sex + 1", 'LAB-E051'],
    ['age(sex)', 'LAB-E051'],
    ["monthly_wage = 'abc'", 'LAB-E051'],
    ['sex = NULL', 'LAB-E051'],
    ['monthly_wage AND urban_village', 'LAB-E051'],
    ["CASE WHEN urban_village THEN 1 ELSE 'x' END", 'LAB-E051'],
    ['bucket(monthly_wage, 10, 5, 20)', 'LAB-E051'],
    ['bucket(monthly_wage, 10, monthly_wage)', 'LAB-E051'],
    ['substr(name)', 'LAB-E051'],
    ['monthly_wage % 2.5', 'LAB-E051'],
  ])('%s → %s', (src, code) => {
    expect(() => check(src)).toThrow(expect.objectContaining({ code }));
  });

  it('points at the offending part', () => {
    try {
      check("sex = 'M' AND nope > 2");
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'LAB-E052', span: { start: 14, end: 18 } });
    }
  });
});
