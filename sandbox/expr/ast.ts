import type { Span } from '../errors/index.ts';

/** The expression language's syntax tree. Plain frozen data; `span` points into the source text. */
export type LiteralType = 'int' | 'numeric' | 'text' | 'date' | 'boolean' | 'null';

export type Expr =
  | { readonly kind: 'column'; readonly name: string; readonly span: Span }
  | { readonly kind: 'literal'; readonly type: LiteralType; readonly value: string | number | boolean | null; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: '-' | 'NOT'; readonly operand: Expr; readonly span: Span }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'between'; readonly operand: Expr; readonly low: Expr; readonly high: Expr; readonly negated: boolean; readonly span: Span }
  | { readonly kind: 'in'; readonly operand: Expr; readonly items: readonly Expr[]; readonly negated: boolean; readonly span: Span }
  | { readonly kind: 'isNull'; readonly operand: Expr; readonly negated: boolean; readonly span: Span }
  | { readonly kind: 'case'; readonly whens: readonly { readonly when: Expr; readonly then: Expr }[]; readonly otherwise: Expr | undefined; readonly span: Span }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly span: Span };

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type LogicalOp = 'AND' | 'OR';
export type BinaryOp = ArithmeticOp | ComparisonOp | LogicalOp;

/** Every column an expression reads, in order of first use. */
export function columnsOf(e: Expr, out: string[] = []): string[] {
  switch (e.kind) {
    case 'column': if (!out.includes(e.name)) out.push(e.name); break;
    case 'literal': break;
    case 'unary': columnsOf(e.operand, out); break;
    case 'binary': columnsOf(e.left, out); columnsOf(e.right, out); break;
    case 'between': columnsOf(e.operand, out); columnsOf(e.low, out); columnsOf(e.high, out); break;
    case 'in': columnsOf(e.operand, out); for (const i of e.items) columnsOf(i, out); break;
    case 'isNull': columnsOf(e.operand, out); break;
    case 'case': for (const w of e.whens) { columnsOf(w.when, out); columnsOf(w.then, out); } if (e.otherwise) columnsOf(e.otherwise, out); break;
    case 'call': for (const a of e.args) columnsOf(a, out); break;
  }
  return out;
}
