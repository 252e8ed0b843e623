/**
 * Live diagnostics of an expression: the server's own lexer, parser and type checker
 * (sandbox/expr, shared through its public entry), run on the columns the node's input has. The
 * first problem, with its LAB-E code, message (zh-CN / en, as the server words it) and span.
 */
import { isLabError } from '../../../sandbox/errors/index.ts';
import { checkExpression, parseExpression, type ColumnInfo } from '../../../sandbox/expr/index.ts';
import type { ExprColumn, ExprContext } from './expr-types.ts';

const EXPR_TYPES = new Set(['int', 'numeric', 'text', 'date', 'boolean', 'bytes']);

export interface Diagnostic { readonly code: string; readonly message: string; readonly start: number; readonly end: number }

function columnInfo(c: ExprColumn): ColumnInfo {
  const type = (EXPR_TYPES.has(c.type) ? c.type : 'text') as ColumnInfo['type'];
  return {
    name: c.name, type,
    semantic: c.semantic as ColumnInfo['semantic'],
    level: c.level as ColumnInfo['level'],
    identifierOrigins: c.identifier ? [c.semantic as ColumnInfo['semantic']] : [],
  };
}

/** The first problem in `text` for these columns; undefined when it checks (or is empty). */
export function diagnose(text: string, ctx: ExprContext): Diagnostic | undefined {
  if (!text.trim()) return undefined;
  try {
    const expr = parseExpression(text);
    if (ctx.columns) checkExpression(expr, ctx.columns.map(columnInfo));
    return undefined;
  } catch (e) {
    if (!isLabError(e)) return { code: 'LAB-E001', message: String(e), start: 0, end: text.length };
    const span = e.span ?? { start: 0, end: text.length };
    return { code: e.code, message: `${e.code} ${e.messageIn(ctx.lang)}`, start: span.start, end: Math.max(span.end, span.start + 1) };
  }
}
