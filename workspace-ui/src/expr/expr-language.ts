/**
 * The expression language in Monaco: highlighting, completion (input columns, their coded values,
 * functions, keywords), hover help, and live diagnostics from the very parser and type checker the
 * server uses (sandbox/expr, pure code shared through its public entry), so what is underlined here
 * is what the server would refuse. Loaded only with the editor chunk.
 */
import * as monaco from 'monaco-editor/editor/editor.api.js';
import { FUNCTIONS } from '../../../sandbox/expr/index.ts';
import type { Bilingual } from '../api/types.ts';
import type { Lang } from '../i18n/lang.ts';
import { diagnose } from './diagnose.ts';
import type { ExprColumn, ExprContext } from './expr-types.ts';

export type { ExprColumn, ExprContext } from './expr-types.ts';
export { diagnose } from './diagnose.ts';

export const LANGUAGE_ID = 'lab-expr';
export const THEME_ID = 'lab-light';

const KEYWORDS = ['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'IS', 'NULL', 'TRUE', 'FALSE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'DATE'];

const contexts = new Map<string, ExprContext>();

export function setContext(model: monaco.editor.ITextModel, ctx: ExprContext): void {
  contexts.set(model.uri.toString(), ctx);
  validateModel(model);
}

export function dropContext(model: monaco.editor.ITextModel): void {
  contexts.delete(model.uri.toString());
}

const pick = (lang: Lang, b: Bilingual | undefined) => (b ? (lang === 'en' ? b.en : b.zh) : '');

export function validateModel(model: monaco.editor.ITextModel): void {
  const ctx = contexts.get(model.uri.toString());
  if (!ctx || model.isDisposed()) return;
  const text = model.getValue();
  const problem = diagnose(text, ctx);
  if (!problem) {
    monaco.editor.setModelMarkers(model, 'lab-expr', []);
    return;
  }
  const start = model.getPositionAt(Math.min(problem.start, text.length));
  const end = model.getPositionAt(Math.min(problem.end, text.length));
  monaco.editor.setModelMarkers(model, 'lab-expr', [{
    severity: monaco.MarkerSeverity.Error, message: problem.message,
    startLineNumber: start.lineNumber, startColumn: start.column, endLineNumber: end.lineNumber, endColumn: Math.max(end.column, start.column + 1),
  }]);
}

function columnDoc(c: ExprColumn, lang: Lang): string {
  const parts = [`**${c.name}** — ${pick(lang, c.label) || c.name}`, `${c.type} · ${c.level}`];
  if (c.identifier) parts.push(lang === 'en' ? 'Identifier: may filter or join, never appears in a result.' : '标识信息：可用于筛选与关联，不会出现在结果中。');
  if (c.values) parts.push(Object.entries(c.values).slice(0, 12).map(([code, l]) => `\`'${code}'\` ${pick(lang, l)}`).join(' · '));
  return parts.join('\n\n');
}

let registered = false;

export function registerExpressionLanguage(): void {
  if (registered) return;
  registered = true;
  monaco.languages.register({ id: LANGUAGE_ID });
  monaco.languages.setLanguageConfiguration(LANGUAGE_ID, {
    brackets: [['(', ')']],
    autoClosingPairs: [{ open: '(', close: ')' }, { open: "'", close: "'", notIn: ['string'] }],
    surroundingPairs: [{ open: '(', close: ')' }, { open: "'", close: "'" }],
    wordPattern: /[A-Za-z_][A-Za-z0-9_]*|-?\d+(\.\d+)?/,
  });
  monaco.languages.setMonarchTokensProvider(LANGUAGE_ID, {
    ignoreCase: true,
    keywords: KEYWORDS,
    functions: FUNCTIONS.map((f) => f.name),
    tokenizer: {
      root: [
        [/[A-Za-z_][A-Za-z0-9_]*/, { cases: { '@keywords': 'keyword', '@functions': 'predefined', '@default': 'identifier' } }],
        [/['‘’]/, { token: 'string.quote', next: '@string' }],
        [/\d+(\.\d+)?/, 'number'],
        [/[()（），,]/, 'delimiter'],
        [/<=|>=|!=|<>|=|<|>|\+|-|\*|\/|%/, 'operator'],
        [/\s+/, 'white'],
      ],
      string: [
        [/''/, 'string.escape'],
        [/[^'‘’]+/, 'string'],
        [/['‘’]/, { token: 'string.quote', next: '@pop' }],
      ],
    },
  } as monaco.languages.IMonarchLanguage);
  monaco.editor.defineTheme(THEME_ID, {
    base: 'vs', inherit: true,
    rules: [
      { token: 'keyword', foreground: '1f6feb', fontStyle: 'bold' },
      { token: 'predefined', foreground: '8250df' },
      { token: 'string', foreground: 'a40e26' },
      { token: 'string.quote', foreground: 'a40e26' },
      { token: 'number', foreground: '116329' },
      { token: 'operator', foreground: '57606a' },
    ],
    colors: { 'editor.background': '#ffffff' },
  });

  monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
    triggerCharacters: [' ', '(', "'", ','],
    provideCompletionItems(model, position) {
      const ctx = contexts.get(model.uri.toString());
      const lang = ctx?.lang ?? 'zh-CN';
      const word = model.getWordUntilPosition(position);
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
      const before = model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
      const K = monaco.languages.CompletionItemKind;

      // After `column =`, `column IN (`, …: that column's coded values, labelled.
      const valueOf = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|!=|<>|IN\s*\((?:[^()]*,)?)\s*'?$/i.exec(before);
      const valued = valueOf ? ctx?.columns?.find((c) => c.name === valueOf[1]?.toLowerCase() && c.values) : undefined;
      if (valued?.values) {
        const quoteTyped = before.endsWith("'");
        const start = quoteTyped ? { ...range, startColumn: position.column - 1, endColumn: position.column } : range;
        return {
          suggestions: Object.entries(valued.values).map(([code, label]) => ({
            label: { label: `'${code}'`, description: pick(lang, label) },
            kind: K.EnumMember, insertText: `'${code}'`, range: start, filterText: `'${code}' ${label.zh} ${label.en}`, sortText: `0${code}`,
          })),
        };
      }
      const columns = (ctx?.columns ?? []).map((c) => ({
        label: { label: c.name, description: pick(lang, c.label) || undefined },
        kind: K.Field, insertText: c.name, range, detail: `${c.type} · ${c.level}${c.identifier ? ' · ID' : ''}`,
        documentation: { value: columnDoc(c, lang) }, sortText: `1${c.name}`, filterText: `${c.name} ${c.label?.zh ?? ''} ${c.label?.en ?? ''}`,
      }));
      const functions = FUNCTIONS.map((f) => ({
        label: { label: f.name, description: pick(lang, f.help) },
        kind: K.Function, insertText: f.maxArgs === 0 ? `${f.name}()` : `${f.name}($0)`,
        insertTextRules: monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet,
        range, detail: f.signature, documentation: pick(lang, f.help), sortText: `2${f.name}`,
      }));
      const keywords = KEYWORDS.map((k) => ({ label: k, kind: K.Keyword, insertText: k, range, sortText: `3${k}` }));
      return { suggestions: [...columns, ...functions, ...keywords] };
    },
  });

  monaco.languages.registerHoverProvider(LANGUAGE_ID, {
    provideHover(model, position) {
      const word = model.getWordAtPosition(position);
      if (!word) return null;
      const ctx = contexts.get(model.uri.toString());
      const lang = ctx?.lang ?? 'zh-CN';
      const name = word.word.toLowerCase();
      const range = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
      const fn = FUNCTIONS.find((f) => f.name === name);
      if (fn) return { range, contents: [{ value: `\`${fn.signature}\`` }, { value: pick(lang, fn.help) }] };
      const col = ctx?.columns?.find((c) => c.name === name);
      if (col) return { range, contents: [{ value: columnDoc(col, lang) }] };
      return null;
    },
  });
}
