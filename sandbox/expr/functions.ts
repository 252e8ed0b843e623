import type { SemanticType } from '../domains/catalog/types.ts';
import { isNumeric, type ExprType } from './types.ts';

/**
 * The whitelist of functions. Only these names parse into a call the checker accepts; each has a
 * SQL template in sandbox/compile (a test checks that every function here has one).
 * `result` decides the output type from the argument types, or returns an error text.
 * `semantic`: the output's semantic type; 'inherit' keeps the first argument's.
 * Identifier origins always propagate unless sandbox/domains/catalog/safe-derivations.ts declares
 * the function safe for that identifier.
 */
export interface FunctionSpec {
  readonly name: string;
  readonly category: 'date' | 'id' | 'text' | 'number' | 'logic';
  readonly signature: string;
  readonly help: { readonly zh: string; readonly en: string };
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly result: (args: readonly ExprType[]) => ExprType | { error: { zh: string; en: string } };
  readonly semantic: SemanticType | 'inherit';
}

const want = (zh: string, en: string) => ({ error: { zh, en } });
const is = (t: ExprType | undefined, ...ok: ExprType[]) => t !== undefined && (t === 'null' || ok.includes(t));

const fn = (spec: FunctionSpec) => spec;

export const FUNCTIONS: readonly FunctionSpec[] = [
  // dates
  fn({ name: 'age', category: 'date', signature: 'age(date) → int', minArgs: 1, maxArgs: 1, semantic: 'measure',
    help: { zh: '截至数据快照日的周岁，如 age(birth_date)', en: 'Age in full years at the snapshot date, e.g. age(birth_date)' },
    result: ([a]) => (is(a, 'date') ? 'int' : want('age 需要日期参数', 'age needs a date')) }),
  fn({ name: 'as_of', category: 'date', signature: 'as_of() → date', minArgs: 0, maxArgs: 0, semantic: 'date',
    help: { zh: '数据快照日（统计口径日期）', en: 'The snapshot date of the data (the reference date)' },
    result: () => 'date' }),
  fn({ name: 'year', category: 'date', signature: 'year(date) → int', minArgs: 1, maxArgs: 1, semantic: 'category',
    help: { zh: '年份', en: 'Year' }, result: ([a]) => (is(a, 'date') ? 'int' : want('year 需要日期', 'year needs a date')) }),
  fn({ name: 'month', category: 'date', signature: 'month(date) → int', minArgs: 1, maxArgs: 1, semantic: 'category',
    help: { zh: '月份（1–12）', en: 'Month (1–12)' }, result: ([a]) => (is(a, 'date') ? 'int' : want('month 需要日期', 'month needs a date')) }),
  fn({ name: 'quarter', category: 'date', signature: 'quarter(date) → int', minArgs: 1, maxArgs: 1, semantic: 'category',
    help: { zh: '季度（1–4）', en: 'Quarter (1–4)' }, result: ([a]) => (is(a, 'date') ? 'int' : want('quarter 需要日期', 'quarter needs a date')) }),
  fn({ name: 'month_start', category: 'date', signature: 'month_start(date) → date', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '所在月第一天（用于按月统计）', en: 'First day of the month (for monthly counts)' },
    result: ([a]) => (is(a, 'date') ? 'date' : want('month_start 需要日期', 'month_start needs a date')) }),
  fn({ name: 'days_between', category: 'date', signature: 'days_between(date, date) → int', minArgs: 2, maxArgs: 2, semantic: 'measure',
    help: { zh: '两个日期相差的天数（后者减前者）', en: 'Days from the first date to the second' },
    result: ([a, b]) => (is(a, 'date') && is(b, 'date') ? 'int' : want('days_between 需要两个日期', 'days_between needs two dates')) }),
  fn({ name: 'months_between', category: 'date', signature: 'months_between(date, date) → int', minArgs: 2, maxArgs: 2, semantic: 'measure',
    help: { zh: '两个日期相差的整月数', en: 'Whole months from the first date to the second' },
    result: ([a, b]) => (is(a, 'date') && is(b, 'date') ? 'int' : want('months_between 需要两个日期', 'months_between needs two dates')) }),
  fn({ name: 'add_days', category: 'date', signature: 'add_days(date, int) → date', minArgs: 2, maxArgs: 2, semantic: 'inherit',
    help: { zh: '日期加若干天（可为负）', en: 'Date plus a number of days (may be negative)' },
    result: ([a, b]) => (is(a, 'date') && is(b, 'int') ? 'date' : want('add_days(日期, 整数)', 'add_days(date, int)')) }),
  fn({ name: 'add_months', category: 'date', signature: 'add_months(date, int) → date', minArgs: 2, maxArgs: 2, semantic: 'inherit',
    help: { zh: '日期加若干月（可为负）', en: 'Date plus a number of months (may be negative)' },
    result: ([a, b]) => (is(a, 'date') && is(b, 'int') ? 'date' : want('add_months(日期, 整数)', 'add_months(date, int)')) }),
  // identifiers (declared safe derivations are in the catalog)
  fn({ name: 'age_from_id', category: 'id', signature: 'age_from_id(id_number) → int', minArgs: 1, maxArgs: 1, semantic: 'measure',
    help: { zh: '由身份号码中的出生日期算周岁', en: 'Age in full years from the birth date inside an ID number' },
    result: ([a]) => (is(a, 'text') ? 'int' : want('age_from_id 需要身份号码', 'age_from_id needs an ID number')) }),
  fn({ name: 'birth_date_from_id', category: 'id', signature: 'birth_date_from_id(id_number) → date', minArgs: 1, maxArgs: 1, semantic: 'date',
    help: { zh: '身份号码中的出生日期', en: 'The birth date inside an ID number' },
    result: ([a]) => (is(a, 'text') ? 'date' : want('birth_date_from_id 需要身份号码', 'birth_date_from_id needs an ID number')) }),
  fn({ name: 'sex_from_id', category: 'id', signature: "sex_from_id(id_number) → 'M' | 'F'", minArgs: 1, maxArgs: 1, semantic: 'category',
    help: { zh: '身份号码第 17 位奇数为男（M），偶数为女（F）', en: "Sex from digit 17 of an ID number: odd 'M', even 'F'" },
    result: ([a]) => (is(a, 'text') ? 'text' : want('sex_from_id 需要身份号码', 'sex_from_id needs an ID number')) }),
  fn({ name: 'region_of_id', category: 'id', signature: 'region_of_id(id_number) → text', minArgs: 1, maxArgs: 1, semantic: 'category',
    help: { zh: '身份号码前 6 位（户籍地行政区划代码）', en: 'First six digits of an ID number (region of origin)' },
    result: ([a]) => (is(a, 'text') ? 'text' : want('region_of_id 需要身份号码', 'region_of_id needs an ID number')) }),
  fn({ name: 'province_of_id', category: 'id', signature: 'province_of_id(id_number) → text', minArgs: 1, maxArgs: 1, semantic: 'category',
    help: { zh: '身份号码前 2 位（省级代码），如 44 为广东', en: 'First two digits of an ID number (province), e.g. 44 is Guangdong' },
    result: ([a]) => (is(a, 'text') ? 'text' : want('province_of_id 需要身份号码', 'province_of_id needs an ID number')) }),
  // text
  fn({ name: 'length', category: 'text', signature: 'length(text) → int', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '字符数', en: 'Number of characters' }, result: ([a]) => (is(a, 'text') ? 'int' : want('length 需要文本', 'length needs text')) }),
  fn({ name: 'lower', category: 'text', signature: 'lower(text) → text', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '转小写', en: 'Lower case' }, result: ([a]) => (is(a, 'text') ? 'text' : want('lower 需要文本', 'lower needs text')) }),
  fn({ name: 'upper', category: 'text', signature: 'upper(text) → text', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '转大写', en: 'Upper case' }, result: ([a]) => (is(a, 'text') ? 'text' : want('upper 需要文本', 'upper needs text')) }),
  fn({ name: 'trim', category: 'text', signature: 'trim(text) → text', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '去掉首尾空格', en: 'Remove surrounding spaces' }, result: ([a]) => (is(a, 'text') ? 'text' : want('trim 需要文本', 'trim needs text')) }),
  fn({ name: 'substr', category: 'text', signature: 'substr(text, start, [length]) → text', minArgs: 2, maxArgs: 3, semantic: 'inherit',
    help: { zh: '取子串（从 1 开始计数）', en: 'Substring (positions count from 1)' },
    result: ([a, b, c]) => (is(a, 'text') && is(b, 'int') && (c === undefined || is(c, 'int')) ? 'text' : want('substr(文本, 起始, [长度])', 'substr(text, start, [length])')) }),
  fn({ name: 'starts_with', category: 'text', signature: 'starts_with(text, text) → boolean', minArgs: 2, maxArgs: 2, semantic: 'flag',
    help: { zh: '是否以某文本开头', en: 'Starts with the given text' },
    result: ([a, b]) => (is(a, 'text') && is(b, 'text') ? 'boolean' : want('starts_with 需要两个文本', 'starts_with needs two texts')) }),
  fn({ name: 'ends_with', category: 'text', signature: 'ends_with(text, text) → boolean', minArgs: 2, maxArgs: 2, semantic: 'flag',
    help: { zh: '是否以某文本结尾', en: 'Ends with the given text' },
    result: ([a, b]) => (is(a, 'text') && is(b, 'text') ? 'boolean' : want('ends_with 需要两个文本', 'ends_with needs two texts')) }),
  fn({ name: 'contains', category: 'text', signature: 'contains(text, text) → boolean', minArgs: 2, maxArgs: 2, semantic: 'flag',
    help: { zh: '是否包含某文本', en: 'Contains the given text' },
    result: ([a, b]) => (is(a, 'text') && is(b, 'text') ? 'boolean' : want('contains 需要两个文本', 'contains needs two texts')) }),
  // numbers
  fn({ name: 'abs', category: 'number', signature: 'abs(number) → number', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '绝对值', en: 'Absolute value' }, result: ([a]) => (a !== undefined && (isNumeric(a) || a === 'null') ? (a === 'null' ? 'int' : a) : want('abs 需要数值', 'abs needs a number')) }),
  fn({ name: 'round', category: 'number', signature: 'round(number, [digits]) → numeric', minArgs: 1, maxArgs: 2, semantic: 'inherit',
    help: { zh: '四舍五入到指定小数位', en: 'Round to the given decimal places' },
    result: ([a, b]) => (a !== undefined && (isNumeric(a) || a === 'null') && (b === undefined || is(b, 'int')) ? 'numeric' : want('round(数值, [位数])', 'round(number, [digits])')) }),
  fn({ name: 'floor', category: 'number', signature: 'floor(number) → int', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '向下取整', en: 'Round down' }, result: ([a]) => (a !== undefined && (isNumeric(a) || a === 'null') ? 'int' : want('floor 需要数值', 'floor needs a number')) }),
  fn({ name: 'ceil', category: 'number', signature: 'ceil(number) → int', minArgs: 1, maxArgs: 1, semantic: 'inherit',
    help: { zh: '向上取整', en: 'Round up' }, result: ([a]) => (a !== undefined && (isNumeric(a) || a === 'null') ? 'int' : want('ceil 需要数值', 'ceil needs a number')) }),
  fn({ name: 'bucket', category: 'number', signature: "bucket(number, b1, b2, …) → text  e.g. bucket(age(birth_date), 0, 15, 25, 45, 60, 80) → '0-14' … '80+'", minArgs: 3, maxArgs: 21, semantic: 'category',
    help: { zh: '按分界点分段，返回如 “15-24”“80+” 的标签；低于第一个分界点为空', en: "Band a number by boundaries into labels such as '15-24' and '80+'; below the first boundary gives null" },
    result: (args) => (args.length >= 3 && args.every((a) => is(a, 'int')) ? 'text' : want('bucket 需要整数和递增的整数分界点', 'bucket needs an integer and increasing integer boundaries')) }),
  // logic
  fn({ name: 'coalesce', category: 'logic', signature: 'coalesce(a, b, …) → first non-null', minArgs: 2, maxArgs: 10, semantic: 'inherit',
    help: { zh: '取第一个非空值', en: 'The first value that is not null' },
    result: (args) => unify(args) ?? want('coalesce 的参数类型必须一致', 'coalesce arguments must have one type') }),
  fn({ name: 'nullif', category: 'logic', signature: 'nullif(a, b) → a, or null when a = b', minArgs: 2, maxArgs: 2, semantic: 'inherit',
    help: { zh: 'a 等于 b 时为空，否则为 a', en: 'Null when a equals b, else a' },
    result: (args) => unify(args) ?? want('nullif 的参数类型必须一致', 'nullif arguments must have one type') }),
  fn({ name: 'greatest', category: 'logic', signature: 'greatest(a, b, …)', minArgs: 2, maxArgs: 10, semantic: 'inherit',
    help: { zh: '最大者（逐行比较，不是聚合）', en: 'The largest of the values (row by row, not an aggregate)' },
    result: (args) => unify(args) ?? want('greatest 的参数类型必须一致', 'greatest arguments must have one type') }),
  fn({ name: 'least', category: 'logic', signature: 'least(a, b, …)', minArgs: 2, maxArgs: 10, semantic: 'inherit',
    help: { zh: '最小者（逐行比较，不是聚合）', en: 'The smallest of the values (row by row, not an aggregate)' },
    result: (args) => unify(args) ?? want('least 的参数类型必须一致', 'least arguments must have one type') }),
];

export const findFunction = (name: string): FunctionSpec | undefined => FUNCTIONS.find((f) => f.name === name);

/** The common type of values (int widens to numeric; null fits anything), or undefined. */
export function unify(types: readonly ExprType[]): ExprType | undefined {
  let out: ExprType = 'null';
  for (const t of types) {
    if (t === 'null' || t === out) continue;
    if (out === 'null') { out = t; continue; }
    if (isNumeric(t) && isNumeric(out)) { out = 'numeric'; continue; }
    return undefined;
  }
  return out;
}
