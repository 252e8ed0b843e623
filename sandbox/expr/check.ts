import { safeDerivation } from '../domains/catalog/safe-derivations.ts';
import { maxClassification, type Classification, type SemanticType } from '../domains/catalog/types.ts';
import { LabError, t, type Span } from '../errors/index.ts';
import type { Expr } from './ast.ts';
import { findFunction, FUNCTIONS, unify } from './functions.ts';
import { isIsoDate } from './parser.ts';
import { isNumeric, TYPE_LABELS, type ColumnInfo, type ExprInfo, type ExprType } from './types.ts';

/** Result of checking an expression: what the whole is, and the type of every node (for the compiler). */
export interface Checked {
  readonly expr: Expr;
  readonly info: ExprInfo;
  readonly types: ReadonlyMap<Expr, ExprType>;
}

export const MAX_IN_ITEMS = 1000;
/** Longest text literal accepted. */
export const MAX_TEXT_LITERAL = 1000;

/**
 * Type-checks an expression against the columns of its input and propagates classification:
 * the result is at least as sensitive as every column it reads, and it stays derived from an
 * identifier unless a declared safe derivation removes that (I3).
 */
export function checkExpression(expr: Expr, columns: readonly ColumnInfo[]): Checked {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const types = new Map<Expr, ExprType>();

  const visit = (e: Expr): ExprInfo => {
    const info = infer(e);
    types.set(e, info.type);
    return info;
  };

  const typeError = (span: Span, zh: string, en: string) => new LabError('LAB-E051', { detail: t(zh, en), span });
  const label = (ty: ExprType | 'bytes') => TYPE_LABELS[ty];

  const combine = (type: ExprType, semantic: SemanticType, parts: readonly ExprInfo[]): ExprInfo => ({
    type,
    semantic,
    level: maxClassification(...parts.map((p) => p.level)),
    identifierOrigins: [...new Set(parts.flatMap((p) => p.identifierOrigins))],
  });

  const comparable = (a: ExprInfo, b: ExprInfo, aExpr: Expr, bExpr: Expr, span: Span): void => {
    if (a.type === 'null' || b.type === 'null') {
      throw typeError(span, '不能与 NULL 比较，请用 IS NULL / IS NOT NULL', 'cannot compare with NULL; use IS NULL / IS NOT NULL');
    }
    if (unify([a.type, b.type])) return;
    // A text literal that is an ISO date compares with a date.
    const dateLiteral = (x: ExprInfo, xe: Expr, y: ExprInfo) =>
      y.type === 'date' && x.type === 'text' && xe.kind === 'literal' && typeof xe.value === 'string' && isIsoDate(xe.value);
    if (dateLiteral(a, aExpr, b)) { types.set(aExpr, 'date'); return; }
    if (dateLiteral(b, bExpr, a)) { types.set(bExpr, 'date'); return; }
    throw typeError(span, `不能比较${label(a.type).zh}与${label(b.type).zh}`, `cannot compare ${label(a.type).en} with ${label(b.type).en}`);
  };

  const wantBoolean = (i: ExprInfo, e: Expr, what: string, whatZh: string) => {
    if (i.type !== 'boolean' && i.type !== 'null') {
      throw typeError(e.span, `${whatZh}需要条件（布尔值），实际为${label(i.type).zh}`, `${what} needs a condition (boolean), got ${label(i.type).en}`);
    }
  };

  function infer(e: Expr): ExprInfo {
    switch (e.kind) {
      case 'column': {
        const c = byName.get(e.name);
        if (!c) {
          const near = columns.map((x) => x.name).filter((n) => n.includes(e.name) || e.name.includes(n)).slice(0, 3);
          throw new LabError('LAB-E052', {
            detail: t(`输入中没有列 ${e.name}${near.length ? `（是否为 ${near.join('、')}？）` : ''}`, `the input has no column ${e.name}${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`),
            span: e.span,
          });
        }
        if (c.type === 'bytes') throw typeError(e.span, `列 ${c.name} 是二进制数据，不能用于表达式`, `column ${c.name} holds binary data and cannot be used in expressions`);
        return { type: c.type, semantic: c.semantic, level: c.level, identifierOrigins: c.identifierOrigins };
      }
      case 'literal':
        if (e.type === 'text' && typeof e.value === 'string' && e.value.length > MAX_TEXT_LITERAL) {
          throw new LabError('LAB-E054', { detail: t(`文本常量超过 ${MAX_TEXT_LITERAL} 个字符`, `text literal longer than ${MAX_TEXT_LITERAL} characters`), span: e.span });
        }
        return { type: e.type, semantic: 'text', level: 'L1', identifierOrigins: [] };
      case 'unary': {
        const o = visit(e.operand);
        if (e.op === 'NOT') { wantBoolean(o, e.operand, 'NOT', 'NOT '); return combine('boolean', 'flag', [o]); }
        if (!isNumeric(o.type) && o.type !== 'null') throw typeError(e.span, `负号需要数值，实际为${label(o.type).zh}`, `minus needs a number, got ${label(o.type).en}`);
        return combine(o.type === 'null' ? 'int' : o.type, o.semantic, [o]);
      }
      case 'binary': {
        const l = visit(e.left);
        const r = visit(e.right);
        switch (e.op) {
          case 'AND': case 'OR':
            wantBoolean(l, e.left, e.op, `${e.op} 左侧`);
            wantBoolean(r, e.right, e.op, `${e.op} 右侧`);
            return combine('boolean', 'flag', [l, r]);
          case '=': case '!=': case '<': case '<=': case '>': case '>=':
            comparable(l, r, e.left, e.right, e.span);
            return combine('boolean', 'flag', [l, r]);
          case '+': case '-': {
            if (l.type === 'date' && (r.type === 'int' || r.type === 'null')) return combine('date', l.semantic, [l, r]);
            if (e.op === '-' && l.type === 'date' && r.type === 'date') return combine('int', 'measure', [l, r]);
            return arithmetic(e, l, r);
          }
          case '*': case '/': case '%':
            return arithmetic(e, l, r);
        }
        break;
      }
      case 'between': {
        const o = visit(e.operand);
        const lo = visit(e.low);
        const hi = visit(e.high);
        comparable(o, lo, e.operand, e.low, e.span);
        comparable(o, hi, e.operand, e.high, e.span);
        return combine('boolean', 'flag', [o, lo, hi]);
      }
      case 'in': {
        if (e.items.length > MAX_IN_ITEMS) throw new LabError('LAB-E054', { detail: t(`IN 列表超过 ${MAX_IN_ITEMS} 项`, `IN list longer than ${MAX_IN_ITEMS} items`), span: e.span });
        const o = visit(e.operand);
        const items = e.items.map((i) => { const x = visit(i); comparable(o, x, e.operand, i, i.span); return x; });
        return combine('boolean', 'flag', [o, ...items]);
      }
      case 'isNull': {
        const o = visit(e.operand);
        return combine('boolean', 'flag', [o]);
      }
      case 'case': {
        const parts: ExprInfo[] = [];
        const results: ExprInfo[] = [];
        for (const w of e.whens) {
          const c = visit(w.when);
          wantBoolean(c, w.when, 'WHEN', 'WHEN ');
          parts.push(c);
          results.push(visit(w.then));
        }
        if (e.otherwise) results.push(visit(e.otherwise));
        const type = unify(results.map((r) => r.type));
        if (!type) throw typeError(e.span, 'CASE 各分支的结果类型必须一致', 'every branch of CASE must give the same type');
        return combine(type === 'null' ? 'text' : type, 'category', [...parts, ...results]);
      }
      case 'call': {
        const spec = findFunction(e.name);
        if (!spec) {
          const near = FUNCTIONS.map((f) => f.name).filter((n) => n.startsWith(e.name.slice(0, 3))).slice(0, 4);
          throw new LabError('LAB-E053', {
            detail: t(`没有函数 ${e.name}${near.length ? `（可用：${near.join('、')}）` : ''}`, `there is no function ${e.name}${near.length ? ` (available: ${near.join(', ')})` : ''}`),
            span: e.span,
          });
        }
        if (e.args.length < spec.minArgs || e.args.length > spec.maxArgs) {
          const n = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : `${spec.minArgs}–${spec.maxArgs}`;
          throw typeError(e.span, `${spec.name} 需要 ${n} 个参数，实际为 ${e.args.length} 个：${spec.signature}`, `${spec.name} takes ${n} arguments, got ${e.args.length}: ${spec.signature}`);
        }
        const args = e.args.map(visit);
        // An argument that is only NULL has no type Postgres can resolve (year(NULL), greatest(NULL,
        // NULL) …): refused here rather than failing in the domain. The functions that pick among
        // their arguments accept NULL beside a typed one (coalesce(x, NULL)).
        const PICKERS = ['coalesce', 'nullif', 'greatest', 'least'];
        const untyped = args.map((a, i) => (a.type === 'null' ? i : -1)).filter((i) => i >= 0);
        if (untyped.length > 0 && (!PICKERS.includes(spec.name) || untyped.length === args.length)) {
          const at = e.args[untyped[0] ?? 0]?.span ?? e.span;
          throw typeError(at, `${spec.name} 的参数只有 NULL，无法确定类型：${spec.signature}`, `an argument of ${spec.name} is only NULL and has no type: ${spec.signature}`);
        }
        const result = spec.result(args.map((a) => a.type));
        if (typeof result !== 'string') throw typeError(e.span, `${result.error.zh}：${spec.signature}`, `${result.error.en}: ${spec.signature}`);
        if (spec.name === 'bucket') checkBucketBounds(e);
        const first = args[0];
        // Declared safe derivation of an identifier, applied directly to the catalog column: the
        // catalog says the result no longer identifies. Applied to anything rewritten, it is not.
        if (first && first.identifierOrigins.length === 1 && e.args[0]?.kind === 'column') {
          const origin = first.identifierOrigins[0] as SemanticType;
          const safe = safeDerivation(spec.name, origin);
          if (safe && first.semantic === origin) {
            const rest = args.slice(1);
            return {
              type: result, semantic: safe.semantic,
              level: maxClassification(safe.level, ...rest.map((r) => r.level)),
              identifierOrigins: [...new Set(rest.flatMap((r) => r.identifierOrigins))],
            };
          }
        }
        const semantic: SemanticType = spec.semantic === 'inherit' ? (first?.semantic ?? 'text') : spec.semantic;
        if (args.length === 0) return { type: result, semantic, level: 'L1' as Classification, identifierOrigins: [] };
        return combine(result, semantic, args);
      }
    }
    throw new Error('unreachable');
  }

  function arithmetic(e: Extract<Expr, { kind: 'binary' }>, l: ExprInfo, r: ExprInfo): ExprInfo {
    const ok = (x: ExprInfo) => isNumeric(x.type) || x.type === 'null';
    if (!ok(l) || !ok(r)) {
      const bad = ok(l) ? r : l;
      throw typeError(e.span, `运算 ${e.op} 需要数值，实际为${label(bad.type).zh}`, `operator ${e.op} needs numbers, got ${label(bad.type).en}`);
    }
    if (e.op === '%' && (l.type === 'numeric' || r.type === 'numeric')) throw typeError(e.span, '取余 % 需要整数', 'remainder % needs integers');
    const type: ExprType = e.op === '/' ? 'numeric' : l.type === 'numeric' || r.type === 'numeric' ? 'numeric' : 'int';
    return combine(type, 'measure', [l, r]);
  }

  function checkBucketBounds(e: Extract<Expr, { kind: 'call' }>) {
    const bounds = e.args.slice(1);
    let prev = -Infinity;
    for (const b of bounds) {
      const v = b.kind === 'literal' && typeof b.value === 'number' ? b.value
        : b.kind === 'unary' && b.op === '-' && b.operand.kind === 'literal' && typeof b.operand.value === 'number' ? -b.operand.value : undefined;
      if (v === undefined) throw typeError(b.span, 'bucket 的分界点必须是整数常量', 'bucket boundaries must be integer constants');
      if (v <= prev) throw typeError(b.span, 'bucket 的分界点必须递增', 'bucket boundaries must increase');
      prev = v;
    }
  }

  const info = visit(expr);
  return { expr, info, types };
}
