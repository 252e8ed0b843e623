/**
 * A small evaluator of the expression language over one mock row, for the editor's mock-data
 * preview only (the lab itself compiles expressions to SQL inside the domains). It reads the
 * syntax tree of the server's own parser (`sandbox/expr`), covers every whitelisted function and
 * follows SQL's three-valued logic: a comparison with NULL is NULL, a filter keeps only TRUE.
 * Dates are 'YYYY-MM-DD' strings.
 */
import type { Expr } from '../../../sandbox/expr/index.ts';

export type Value = string | number | boolean | null;
export type Row = Readonly<Record<string, Value>>;

const DAY = 86_400_000;
const dateMs = (d: string) => Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)));
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isDate = (v: Value): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

function yearsBetween(from: string, to: string): number {
  let years = Number(to.slice(0, 4)) - Number(from.slice(0, 4));
  if (to.slice(5) < from.slice(5)) years -= 1;
  return years;
}
function monthsBetween(from: string, to: string): number {
  let m = (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));
  if (m > 0 && to.slice(8) < from.slice(8)) m -= 1;
  if (m < 0 && to.slice(8) > from.slice(8)) m += 1;
  return m;
}
function addMonths(d: string, n: number): string {
  const y = Number(d.slice(0, 4));
  const total = y * 12 + Number(d.slice(5, 7)) - 1 + n;
  const ny = Math.floor(total / 12);
  const nm = total - ny * 12;
  const last = new Date(Date.UTC(ny, nm + 1, 0)).getUTCDate();
  return isoDay(Date.UTC(ny, nm, Math.min(Number(d.slice(8, 10)), last)));
}
const birthOfId = (id: string): string | null => (/^\d{17}[\dX]$/.test(id) ? `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}` : null);

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function bucket(x: number, bounds: readonly number[]): string | null {
  let label: string | null = null;
  for (let i = 0; i < bounds.length; i++) {
    const low = bounds[i] as number;
    if (x < low) break;
    const high = bounds[i + 1];
    label = high === undefined ? `${low}+` : `${low}-${high - 1}`;
  }
  return label;
}

function call(name: string, a: readonly Value[], asOf: string): Value {
  const [x, y, z] = a;
  const nums = a.every((v) => typeof v === 'number');
  switch (name) {
    case 'as_of': return asOf;
    case 'coalesce': return a.find((v) => v !== null) ?? null;
    case 'nullif': return x !== null && y !== null && compare(x ?? null, y ?? null) === 0 ? null : x ?? null;
    case 'greatest': case 'least': {
      const vs = a.filter((v) => v !== null);
      if (vs.length === 0) return null;
      return vs.reduce((m, v) => ((name === 'greatest' ? compare(v, m) > 0 : compare(v, m) < 0) ? v : m));
    }
  }
  if (a.some((v) => v === null) && name !== 'substr') return null;
  switch (name) {
    case 'age': return isDate(x ?? null) ? yearsBetween(x as string, asOf) : null;
    case 'year': return Number(String(x).slice(0, 4));
    case 'month': return Number(String(x).slice(5, 7));
    case 'quarter': return Math.floor((Number(String(x).slice(5, 7)) - 1) / 3) + 1;
    case 'month_start': return `${String(x).slice(0, 7)}-01`;
    case 'days_between': return Math.round((dateMs(String(y)) - dateMs(String(x))) / DAY);
    case 'months_between': return monthsBetween(String(x), String(y));
    case 'add_days': return isoDay(dateMs(String(x)) + Number(y) * DAY);
    case 'add_months': return addMonths(String(x), Number(y));
    case 'age_from_id': { const b = birthOfId(String(x)); return b ? yearsBetween(b, asOf) : null; }
    case 'birth_date_from_id': return birthOfId(String(x));
    case 'sex_from_id': { const d = String(x).charAt(16); return /\d/.test(d) ? (Number(d) % 2 === 1 ? 'M' : 'F') : null; }
    case 'region_of_id': return String(x).slice(0, 6);
    case 'province_of_id': return String(x).slice(0, 2);
    case 'length': return [...String(x)].length;
    case 'lower': return String(x).toLowerCase();
    case 'upper': return String(x).toUpperCase();
    case 'trim': return String(x).trim();
    case 'substr': {
      if (x === null || y === null || z === null) return null;
      const chars = [...String(x)];
      const start = Math.max(Number(y), 1) - 1;
      return chars.slice(start, z === undefined ? undefined : Math.max(Number(y) + Number(z) - 1, 0)).join('');
    }
    case 'starts_with': return String(x).startsWith(String(y));
    case 'ends_with': return String(x).endsWith(String(y));
    case 'contains': return String(x).includes(String(y));
    case 'abs': return Math.abs(Number(x));
    case 'round': { const f = 10 ** Number(y ?? 0); return Math.round(Number(x) * f) / f; }
    case 'floor': return Math.floor(Number(x));
    case 'ceil': return Math.ceil(Number(x));
    case 'bucket': return nums ? bucket(Number(x), a.slice(1) as number[]) : null;
  }
  throw new Error(`function ${name} has no mock evaluation`);
}

export function evaluate(e: Expr, row: Row, asOf: string): Value {
  switch (e.kind) {
    case 'column': return row[e.name] ?? null;
    case 'literal': return e.value;
    case 'unary': {
      const v = evaluate(e.operand, row, asOf);
      if (v === null) return null;
      return e.op === 'NOT' ? !v : -Number(v);
    }
    case 'binary': {
      if (e.op === 'AND' || e.op === 'OR') {
        const l = evaluate(e.left, row, asOf);
        const r = evaluate(e.right, row, asOf);
        if (e.op === 'AND') return l === false || r === false ? false : l === null || r === null ? null : true;
        return l === true || r === true ? true : l === null || r === null ? null : false;
      }
      const l = evaluate(e.left, row, asOf);
      const r = evaluate(e.right, row, asOf);
      if (l === null || r === null) return null;
      switch (e.op) {
        case '+': return Number(l) + Number(r);
        case '-': return Number(l) - Number(r);
        case '*': return Number(l) * Number(r);
        case '/': return Number(r) === 0 ? null : Number(l) / Number(r);
        case '%': return Number(r) === 0 ? null : Number(l) % Number(r);
        case '=': return compare(l, r) === 0;
        case '!=': return compare(l, r) !== 0;
        case '<': return compare(l, r) < 0;
        case '<=': return compare(l, r) <= 0;
        case '>': return compare(l, r) > 0;
        case '>=': return compare(l, r) >= 0;
      }
      return null;
    }
    case 'between': {
      const v = evaluate(e.operand, row, asOf);
      const lo = evaluate(e.low, row, asOf);
      const hi = evaluate(e.high, row, asOf);
      if (v === null || lo === null || hi === null) return null;
      const inside = compare(v, lo) >= 0 && compare(v, hi) <= 0;
      return e.negated ? !inside : inside;
    }
    case 'in': {
      const v = evaluate(e.operand, row, asOf);
      if (v === null) return null;
      const items = e.items.map((i) => evaluate(i, row, asOf));
      const found = items.some((i) => i !== null && compare(v, i) === 0);
      if (!found && items.includes(null)) return null;
      return e.negated ? !found : found;
    }
    case 'isNull': {
      const isNull = evaluate(e.operand, row, asOf) === null;
      return e.negated ? !isNull : isNull;
    }
    case 'case': {
      for (const w of e.whens) if (evaluate(w.when, row, asOf) === true) return evaluate(w.then, row, asOf);
      return e.otherwise ? evaluate(e.otherwise, row, asOf) : null;
    }
    case 'call': return call(e.name, e.args.map((a) => evaluate(a, row, asOf)), asOf);
  }
}
