import type { Expr } from '../expr/ast.ts';
import type { Checked } from '../expr/check.ts';
import type { ExprType } from '../expr/types.ts';
import type { SqlParams } from './sql-params.ts';

export interface ExprCompileContext {
  readonly params: SqlParams;
  /** SQL for a column of the input (through the identifier sanitiser). */
  readonly column: (name: string) => string;
  /** The snapshot date (`as_of()`, `age()`), 'YYYY-MM-DD'. */
  readonly asOf: string;
}

type FnTemplate = (args: readonly string[], ctx: ExprCompileContext, call: Extract<Expr, { kind: 'call' }>) => string;

const asOf = (ctx: ExprCompileContext) => ctx.params.add(ctx.asOf, 'date');
/**
 * The birth date in an ID number (GB 11643: YYYYMMDD at 7–14), or NULL when those characters are
 * not a real date — never an error (to_date would raise on "not an id number": a one-bit oracle).
 * Nested CASEs keep the order: the date is built only from characters that passed the pattern.
 */
const ID_DATE_PATTERN = '^(1[89]|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$';
const birthFromId = (ctx: ExprCompileContext, x: string) => {
  const ymd = `substr(${x}, 7, 8)`;
  const d = `(make_date(substr(${x}, 7, 4)::int, substr(${x}, 11, 2)::int, 1) + (substr(${x}, 13, 2)::int - 1))`;
  return `(CASE WHEN ${ymd} ~ ${ctx.params.add(ID_DATE_PATTERN, 'text')} THEN (CASE WHEN to_char(${d}, 'YYYYMMDD') = ${ymd} THEN ${d} END) END)`;
};
const ageAt = (ctx: ExprCompileContext, d: string) => `date_part('year', age(${asOf(ctx)}, ${d}))::bigint`;
const at = (a: readonly string[], i: number) => a[i] ?? 'NULL';

/*
 * Total expressions: no row may make a stage fail (a failure would answer a yes/no question about
 * that row). So nothing compiled here can raise a runtime error, whatever the data:
 * - arithmetic is on numeric, each operand saturated at ±1e60 (no bigint overflow, and numeric can
 *   never overflow its own range: products stay below 1e120, quotients below 1e16443);
 * - `/` and `%` give NULL for a zero divisor;
 * - every cast to integer is clamped into a range the function accepts (substr lengths ≥ 0,
 *   round() scales within ±1000, add_months within ±2000 years);
 * - date arithmetic is clamped to 4700 BC … 200000 AD, inside the range of timestamps, so that
 *   age(), date_part() and date_trunc() accept every date a row can hold.
 */
const saturated = (x: string) => `LEAST(GREATEST((${x})::numeric, -1e60), 1e60)`;
const clampInt = (x: string, lo: number, hi: number) => `LEAST(GREATEST((${x})::numeric, ${lo}), ${hi})::integer`;
const INT_MAX = 2147483647;
/** Days since 2000-01-01 of the first and last date arithmetic may give (4700 BC, 200000 AD). */
const FIRST_DAY = -2446759;
const LAST_DAY = 72318015;
const shiftDays = (d: string, op: '+' | '-', n: string) =>
  `(DATE '2000-01-01' + LEAST(GREATEST((${d} - DATE '2000-01-01') ${op} (${n})::numeric, ${FIRST_DAY}), ${LAST_DAY})::integer)`;

/**
 * SQL templates of the whitelisted functions (sandbox/expr/functions.ts). Arguments arrive
 * compiled; the templates add only fixed SQL, never user text.
 */
export const FUNCTION_SQL: Record<string, FnTemplate> = {
  age: (a, ctx) => ageAt(ctx, at(a, 0)),
  as_of: (_a, ctx) => asOf(ctx),
  year: (a) => `date_part('year', ${at(a, 0)})::bigint`,
  month: (a) => `date_part('month', ${at(a, 0)})::bigint`,
  quarter: (a) => `date_part('quarter', ${at(a, 0)})::bigint`,
  month_start: (a) => `date_trunc('month', ${at(a, 0)})::date`,
  days_between: (a) => `(${at(a, 1)} - ${at(a, 0)})`,
  months_between: (a) => `(date_part('year', age(${at(a, 1)}, ${at(a, 0)})) * 12 + date_part('month', age(${at(a, 1)}, ${at(a, 0)})))::bigint`,
  add_days: (a) => shiftDays(at(a, 0), '+', at(a, 1)),
  add_months: (a) => `(LEAST(GREATEST(${at(a, 0)}, DATE '0001-01-01'), DATE '9999-12-31') + make_interval(months => ${clampInt(at(a, 1), -24000, 24000)}))::date`,
  age_from_id: (a, ctx) => ageAt(ctx, birthFromId(ctx, at(a, 0))),
  birth_date_from_id: (a, ctx) => birthFromId(ctx, at(a, 0)),
  sex_from_id: (a) => `(CASE (ascii(substr(${at(a, 0)}, 17, 1)) - 48) % 2 WHEN 1 THEN 'M' WHEN 0 THEN 'F' END)`,
  region_of_id: (a) => `substr(${at(a, 0)}, 1, 6)`,
  province_of_id: (a) => `substr(${at(a, 0)}, 1, 2)`,
  length: (a) => `char_length(${at(a, 0)})::bigint`,
  lower: (a) => `lower(${at(a, 0)})`,
  upper: (a) => `upper(${at(a, 0)})`,
  trim: (a) => `btrim(${at(a, 0)})`,
  substr: (a) => (a.length === 3 ? `substr(${at(a, 0)}, ${clampInt(at(a, 1), -INT_MAX, INT_MAX)}, ${clampInt(at(a, 2), 0, INT_MAX)})` : `substr(${at(a, 0)}, ${clampInt(at(a, 1), -INT_MAX, INT_MAX)})`),
  starts_with: (a) => `starts_with(${at(a, 0)}, ${at(a, 1)})`,
  ends_with: (a) => `(right(${at(a, 0)}, char_length(${at(a, 1)})) = ${at(a, 1)})`,
  contains: (a) => `(strpos(${at(a, 0)}, ${at(a, 1)}) > 0)`,
  abs: (a) => `abs((${at(a, 0)})::numeric)`,
  round: (a) => (a.length === 2 ? `round((${at(a, 0)})::numeric, ${clampInt(at(a, 1), -1000, 1000)})` : `round((${at(a, 0)})::numeric)`),
  floor: (a) => `floor((${at(a, 0)})::numeric)`,
  ceil: (a) => `ceil((${at(a, 0)})::numeric)`,
  bucket: (a, ctx, call) => {
    // Boundaries were checked to be increasing integer constants; labels go in as parameters.
    // The value is computed once: width_bucket gives 0 below the first boundary, i from boundary i
    // on, NULL for NULL (no WHEN matches, so the label is NULL too).
    const bounds = call.args.slice(1).map(constantInt);
    const parts: string[] = [];
    for (let i = 1; i < bounds.length; i++) {
      const lo = bounds[i - 1] as number;
      const hi = bounds[i] as number;
      parts.push(`WHEN ${i} THEN ${ctx.params.add(hi - lo === 1 ? `${lo}` : `${lo}-${hi - 1}`, 'text')}`);
    }
    parts.push(`WHEN ${bounds.length} THEN ${ctx.params.add(`${bounds[bounds.length - 1] as number}+`, 'text')}`);
    return `(CASE width_bucket(${at(a, 0)}, ARRAY[${a.slice(1).join(', ')}]) ${parts.join(' ')} END)`;
  },
  coalesce: (a) => `COALESCE(${a.join(', ')})`,
  nullif: (a) => `NULLIF(${at(a, 0)}, ${at(a, 1)})`,
  greatest: (a) => `GREATEST(${a.join(', ')})`,
  least: (a) => `LEAST(${a.join(', ')})`,
};

function constantInt(e: Expr): number {
  if (e.kind === 'literal' && typeof e.value === 'number') return e.value;
  if (e.kind === 'unary' && e.op === '-' && e.operand.kind === 'literal' && typeof e.operand.value === 'number') return -e.operand.value;
  throw new Error('bucket boundary is not an integer constant (the checker should have refused it)');
}

/** Compiles a checked expression to SQL text; every literal becomes a typed bind parameter. */
export function compileExpression(checked: Checked, ctx: ExprCompileContext): string {
  const typeOf = (e: Expr): ExprType => {
    const ty = checked.types.get(e);
    if (!ty) throw new Error('expression was not checked');
    return ty;
  };
  const c = (e: Expr): string => {
    switch (e.kind) {
      case 'column':
        return ctx.column(e.name);
      case 'literal': {
        const ty = typeOf(e);
        if (e.value === null || ty === 'null') return 'NULL';
        return ctx.params.add(e.value, ty);
      }
      case 'unary':
        return e.op === 'NOT' ? `(NOT ${c(e.operand)})` : `(- ${saturated(c(e.operand))})`;
      case 'binary': {
        const l = c(e.left);
        const r = c(e.right);
        switch (e.op) {
          case 'AND': case 'OR': return `(${l} ${e.op} ${r})`;
          case '!=': return `(${l} <> ${r})`;
          case '=': case '<': case '<=': case '>': case '>=': return `(${l} ${e.op} ${r})`;
          case '/': return `(${saturated(l)} / NULLIF(${saturated(r)}, 0))`;
          case '%': return `(${saturated(l)} % NULLIF(${saturated(r)}, 0))`;
          case '+': case '-':
            if (typeOf(e.left) === 'date' && typeOf(e.right) !== 'date') return shiftDays(l, e.op, r);
            if (typeOf(e.left) === 'date') return `(${l} ${e.op} ${r})`;
            return `(${saturated(l)} ${e.op} ${saturated(r)})`;
          case '*': return `(${saturated(l)} * ${saturated(r)})`;
        }
        break;
      }
      case 'between':
        return `(${c(e.operand)} ${e.negated ? 'NOT ' : ''}BETWEEN ${c(e.low)} AND ${c(e.high)})`;
      case 'in':
        return `(${c(e.operand)} ${e.negated ? 'NOT ' : ''}IN (${e.items.map(c).join(', ')}))`;
      case 'isNull':
        return `(${c(e.operand)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
      case 'case': {
        const whens = e.whens.map((w) => `WHEN ${c(w.when)} THEN ${c(w.then)}`).join(' ');
        return `(CASE ${whens}${e.otherwise ? ` ELSE ${c(e.otherwise)}` : ''} END)`;
      }
      case 'call': {
        const tpl = FUNCTION_SQL[e.name];
        if (!tpl) throw new Error(`no SQL template for function ${e.name}`);
        return tpl(e.args.map(c), ctx, e);
      }
    }
    throw new Error('unreachable');
  };
  return c(checked.expr);
}
