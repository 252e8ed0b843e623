import { LabError, t } from '../errors/index.ts';

export type TokenKind = 'ident' | 'int' | 'numeric' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma' | 'keyword' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Keywords upper-cased; identifiers lower-cased; strings unescaped; numbers as written. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

export const KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'IS', 'NULL', 'TRUE', 'FALSE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'DATE',
]);

/** Expressions longer than this are refused before parsing. */
export const MAX_EXPRESSION_LENGTH = 8_000;

/** Operator tokens (`<>` reads as `!=`). */
export const OPS = ['<=', '>=', '!=', '<>', '=', '<', '>', '+', '-', '*', '/', '%'];

/** Splits expression text into tokens. Full-width parentheses/commas (from Chinese input methods) are accepted. */
export function tokenize(src: string): Token[] {
  if (src.length > MAX_EXPRESSION_LENGTH) {
    throw new LabError('LAB-E054', { detail: t(`表达式超过 ${MAX_EXPRESSION_LENGTH} 个字符`, `expression longer than ${MAX_EXPRESSION_LENGTH} characters`), span: { start: 0, end: src.length } });
  }
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i] ?? '';
    if (/\s/.test(ch)) { i++; continue; }
    const start = i;
    if (ch === '(' || ch === '（') { out.push({ kind: 'lparen', text: '(', start, end: ++i }); continue; }
    if (ch === ')' || ch === '）') { out.push({ kind: 'rparen', text: ')', start, end: ++i }); continue; }
    if (ch === ',' || ch === '，') { out.push({ kind: 'comma', text: ',', start, end: ++i }); continue; }
    if (ch === "'" || ch === '‘' || ch === '’') {
      i++;
      let text = '';
      for (;;) {
        if (i >= src.length) {
          throw new LabError('LAB-E050', { detail: t('字符串缺少结尾的单引号', 'string is missing its closing quote'), span: { start, end: src.length } });
        }
        const c = src[i] ?? '';
        if (c === "'" || c === '’' || c === '‘') {
          if (src[i + 1] === "'") { text += "'"; i += 2; continue; }
          i++;
          break;
        }
        text += c;
        i++;
      }
      out.push({ kind: 'string', text, start, end: i });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      while (/[0-9]/.test(src[i] ?? '')) i++;
      let kind: TokenKind = 'int';
      if (src[i] === '.' && /[0-9]/.test(src[i + 1] ?? '')) {
        kind = 'numeric';
        i++;
        while (/[0-9]/.test(src[i] ?? '')) i++;
      }
      if (/[A-Za-z_]/.test(src[i] ?? '')) {
        throw new LabError('LAB-E050', { detail: t('数字后紧跟字母', 'a number runs into letters'), span: { start, end: i + 1 } });
      }
      out.push({ kind, text: src.slice(start, i), start, end: i });
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      while (/[A-Za-z0-9_]/.test(src[i] ?? '')) i++;
      const word = src.slice(start, i);
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) out.push({ kind: 'keyword', text: upper, start, end: i });
      else out.push({ kind: 'ident', text: word.toLowerCase(), start, end: i });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      i += op.length;
      out.push({ kind: 'op', text: op === '<>' ? '!=' : op, start, end: i });
      continue;
    }
    throw new LabError('LAB-E050', {
      detail: t(`无法识别的字符 ${JSON.stringify(ch)}（第 ${start + 1} 个字符）`, `unexpected character ${JSON.stringify(ch)} at position ${start + 1}`),
      span: { start, end: start + 1 },
    });
  }
  out.push({ kind: 'eof', text: '', start: src.length, end: src.length });
  return out;
}
