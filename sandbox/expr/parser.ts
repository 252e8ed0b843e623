import { LabError, t, type Span } from '../errors/index.ts';
import type { BinaryOp, Expr } from './ast.ts';
import { tokenize, type Token } from './lexer.ts';

/** Deepest syntax tree accepted (the pipeline-spec limit). */
export const MAX_EXPRESSION_DEPTH = 64;

/** The grammar of the expression language (docs/pipeline-spec.md shows this very text). */
export const EXPRESSION_GRAMMAR = `expr      := or
or        := and ('OR' and)*
and       := not ('AND' not)*
not       := 'NOT' not | predicate
predicate := sum [ cmp sum | ['NOT'] 'IN' '(' expr (',' expr)* ')' | ['NOT'] 'BETWEEN' sum 'AND' sum | 'IS' ['NOT'] 'NULL' ]
cmp       := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
sum       := product (('+' | '-') product)*
product   := unary (('*' | '/' | '%') unary)*
unary     := '-' unary | primary
primary   := number | string | 'DATE' string | 'TRUE' | 'FALSE' | 'NULL' | column | name '(' [expr (',' expr)*] ')'
           | '(' expr ')' | 'CASE' ('WHEN' expr 'THEN' expr)+ ['ELSE' expr] 'END'`;

/** Parses the expression language (EXPRESSION_GRAMMAR) into a syntax tree. */
export function parseExpression(src: string): Expr {
  const p = new Parser(tokenize(src), src);
  if (p.peek().kind === 'eof') {
    throw new LabError('LAB-E050', { detail: t('表达式为空', 'the expression is empty'), span: { start: 0, end: src.length } });
  }
  const e = p.expr(0);
  const rest = p.peek();
  if (rest.kind !== 'eof') throw p.unexpected(rest, t('表达式结束', 'the end of the expression'));
  const depth = depthOf(e);
  if (depth > MAX_EXPRESSION_DEPTH) {
    throw new LabError('LAB-E054', { detail: t(`嵌套深度 ${depth} 超过上限 ${MAX_EXPRESSION_DEPTH}`, `nesting depth ${depth} exceeds the limit of ${MAX_EXPRESSION_DEPTH}`), span: e.span });
  }
  return e;
}

export function depthOf(e: Expr): number {
  // Iterative, so a hostile tree cannot overflow the stack here.
  let max = 0;
  const stack: [Expr, number][] = [[e, 1]];
  while (stack.length) {
    const [n, d] = stack.pop() as [Expr, number];
    if (d > max) max = d;
    const kids: Expr[] = [];
    switch (n.kind) {
      case 'column': case 'literal': break;
      case 'unary': kids.push(n.operand); break;
      case 'binary': kids.push(n.left, n.right); break;
      case 'between': kids.push(n.operand, n.low, n.high); break;
      case 'in': kids.push(n.operand, ...n.items); break;
      case 'isNull': kids.push(n.operand); break;
      case 'case': for (const w of n.whens) kids.push(w.when, w.then); if (n.otherwise) kids.push(n.otherwise); break;
      case 'call': kids.push(...n.args); break;
    }
    for (const k of kids) stack.push([k, d + 1]);
  }
  return max;
}

const span = (a: { span: Span } | Token, b: { span: Span } | Token): Span => ({
  start: 'span' in a ? a.span.start : a.start,
  end: 'span' in b ? b.span.end : b.end,
});

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly src: string) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const tok = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return tok;
  }
  private isKeyword(text: string, offset = 0): boolean {
    const tok = this.peek(offset);
    return tok.kind === 'keyword' && tok.text === text;
  }
  private expectKeyword(text: string): Token {
    const tok = this.next();
    if (tok.kind !== 'keyword' || tok.text !== text) throw this.unexpected(tok, t(text, text));
    return tok;
  }
  private expectKind(kind: Token['kind'], what: { zh: string; en: string }): Token {
    const tok = this.next();
    if (tok.kind !== kind) throw this.unexpected(tok, what);
    return tok;
  }

  unexpected(tok: Token, expected: { zh: string; en: string }): LabError {
    const found = tok.kind === 'eof' ? t('表达式结尾', 'the end of the expression') : t(`“${this.src.slice(tok.start, tok.end)}”`, `"${this.src.slice(tok.start, tok.end)}"`);
    return new LabError('LAB-E050', {
      detail: t(`第 ${tok.start + 1} 个字符处应为 ${expected.zh}，实际为 ${found.zh}`, `expected ${expected.en} at position ${tok.start + 1}, found ${found.en}`),
      span: { start: tok.start, end: Math.max(tok.end, tok.start + 1) },
    });
  }

  private guard(depth: number, tok: Token): void {
    if (depth > MAX_EXPRESSION_DEPTH) {
      throw new LabError('LAB-E054', {
        detail: t(`嵌套超过 ${MAX_EXPRESSION_DEPTH} 层`, `nesting exceeds ${MAX_EXPRESSION_DEPTH} levels`),
        span: { start: tok.start, end: tok.end },
      });
    }
  }

  expr(depth: number): Expr {
    this.guard(depth, this.peek());
    let left = this.and(depth);
    while (this.isKeyword('OR')) {
      this.next();
      const right = this.and(depth);
      left = { kind: 'binary', op: 'OR', left, right, span: span(left, right) };
    }
    return left;
  }

  private and(depth: number): Expr {
    let left = this.not(depth);
    while (this.isKeyword('AND')) {
      this.next();
      const right = this.not(depth);
      left = { kind: 'binary', op: 'AND', left, right, span: span(left, right) };
    }
    return left;
  }

  private not(depth: number): Expr {
    if (this.isKeyword('NOT')) {
      const tok = this.next();
      this.guard(depth + 1, tok);
      const operand = this.not(depth + 1);
      return { kind: 'unary', op: 'NOT', operand, span: span(tok, operand) };
    }
    return this.predicate(depth);
  }

  private predicate(depth: number): Expr {
    const left = this.sum(depth);
    const tok = this.peek();
    if (tok.kind === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(tok.text)) {
      this.next();
      const right = this.sum(depth);
      return { kind: 'binary', op: tok.text as BinaryOp, left, right, span: span(left, right) };
    }
    const negated = this.isKeyword('NOT') && (this.isKeyword('IN', 1) || this.isKeyword('BETWEEN', 1));
    if (negated) this.next();
    if (this.isKeyword('IN')) {
      this.next();
      this.expectKind('lparen', t('“(”', '"("'));
      const items: Expr[] = [this.expr(depth + 1)];
      while (this.peek().kind === 'comma') { this.next(); items.push(this.expr(depth + 1)); }
      const close = this.expectKind('rparen', t('“,” 或 “)”', '"," or ")"'));
      return { kind: 'in', operand: left, items, negated, span: span(left, close) };
    }
    if (this.isKeyword('BETWEEN')) {
      this.next();
      const low = this.sum(depth);
      this.expectKeyword('AND');
      const high = this.sum(depth);
      return { kind: 'between', operand: left, low, high, negated, span: span(left, high) };
    }
    if (this.isKeyword('IS')) {
      this.next();
      const neg = this.isKeyword('NOT');
      if (neg) this.next();
      const end = this.expectKeyword('NULL');
      return { kind: 'isNull', operand: left, negated: neg, span: span(left, end) };
    }
    return left;
  }

  private sum(depth: number): Expr {
    let left = this.product(depth);
    for (let tok = this.peek(); tok.kind === 'op' && (tok.text === '+' || tok.text === '-'); tok = this.peek()) {
      this.next();
      const right = this.product(depth);
      left = { kind: 'binary', op: tok.text as BinaryOp, left, right, span: span(left, right) };
    }
    return left;
  }

  private product(depth: number): Expr {
    let left = this.unary(depth);
    for (let tok = this.peek(); tok.kind === 'op' && (tok.text === '*' || tok.text === '/' || tok.text === '%'); tok = this.peek()) {
      this.next();
      const right = this.unary(depth);
      left = { kind: 'binary', op: tok.text as BinaryOp, left, right, span: span(left, right) };
    }
    return left;
  }

  private unary(depth: number): Expr {
    const tok = this.peek();
    if (tok.kind === 'op' && tok.text === '-') {
      this.next();
      this.guard(depth + 1, tok);
      const operand = this.unary(depth + 1);
      return { kind: 'unary', op: '-', operand, span: span(tok, operand) };
    }
    return this.primary(depth);
  }

  private primary(depth: number): Expr {
    const tok = this.next();
    const at = { start: tok.start, end: tok.end };
    switch (tok.kind) {
      case 'int': {
        const n = Number(tok.text);
        return Number.isSafeInteger(n)
          ? { kind: 'literal', type: 'int', value: n, span: at }
          : { kind: 'literal', type: 'numeric', value: tok.text, span: at };
      }
      case 'numeric':
        return { kind: 'literal', type: 'numeric', value: tok.text, span: at };
      case 'string':
        return { kind: 'literal', type: 'text', value: tok.text, span: at };
      case 'lparen': {
        const inner = this.expr(depth + 1);
        this.expectKind('rparen', t('“)”', '")"'));
        return inner;
      }
      case 'ident': {
        if (this.peek().kind !== 'lparen') return { kind: 'column', name: tok.text, span: at };
        this.next();
        const args: Expr[] = [];
        if (this.peek().kind !== 'rparen') {
          args.push(this.expr(depth + 1));
          while (this.peek().kind === 'comma') { this.next(); args.push(this.expr(depth + 1)); }
        }
        const close = this.expectKind('rparen', t('“,” 或 “)”', '"," or ")"'));
        return { kind: 'call', name: tok.text, args, span: span(tok, close) };
      }
      case 'keyword':
        switch (tok.text) {
          case 'TRUE': return { kind: 'literal', type: 'boolean', value: true, span: at };
          case 'FALSE': return { kind: 'literal', type: 'boolean', value: false, span: at };
          case 'NULL': return { kind: 'literal', type: 'null', value: null, span: at };
          case 'DATE': {
            const s = this.expectKind('string', t("日期字符串，如 DATE '2026-01-01'", "a date string such as DATE '2026-01-01'"));
            if (!isIsoDate(s.text)) {
              throw new LabError('LAB-E050', { detail: t(`不是有效日期：${s.text}（格式 YYYY-MM-DD）`, `not a valid date: ${s.text} (format YYYY-MM-DD)`), span: { start: s.start, end: s.end } });
            }
            return { kind: 'literal', type: 'date', value: s.text, span: span(tok, s) };
          }
          case 'CASE': {
            this.guard(depth + 1, tok);
            const whens: { when: Expr; then: Expr }[] = [];
            while (this.isKeyword('WHEN')) {
              this.next();
              const when = this.expr(depth + 1);
              this.expectKeyword('THEN');
              const then = this.expr(depth + 1);
              whens.push({ when, then });
            }
            if (whens.length === 0) throw this.unexpected(this.peek(), t('WHEN', 'WHEN'));
            let otherwise: Expr | undefined;
            if (this.isKeyword('ELSE')) { this.next(); otherwise = this.expr(depth + 1); }
            const end = this.expectKeyword('END');
            return { kind: 'case', whens, otherwise, span: span(tok, end) };
          }
          default:
            throw this.unexpected(tok, t('值、列名或函数', 'a value, a column or a function'));
        }
      case 'op': case 'rparen': case 'comma': case 'eof':
        throw this.unexpected(tok, t('值、列名或函数', 'a value, a column or a function'));
    }
  }
}

export function isIsoDate(s: string): boolean {
  // Postgres has no year 0 (and JavaScript's Date would accept it): years 0001–9999 only.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || s.startsWith('0000')) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
