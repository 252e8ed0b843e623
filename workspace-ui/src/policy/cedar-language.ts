/**
 * Cedar in Monaco: a Monarch tokenizer (keywords, strings, comments, annotations, entity types) and
 * the colours of the lab. Validation is the server's (POST /api/policies/check runs Cedar itself):
 * its problems become markers, no second grammar here. Loaded only with the policy editor.
 */
import * as monaco from 'monaco-editor/editor/editor.api.js';

export const CEDAR_LANGUAGE_ID = 'cedar';
export const CEDAR_THEME_ID = 'lab-cedar';

/** The words the policy language reserves (the scope, conditions and operators on entities). */
export const CEDAR_KEYWORDS = ['permit', 'forbid', 'when', 'unless', 'principal', 'action', 'resource', 'context', 'in', 'has', 'like', 'is', 'if', 'then', 'else', 'true', 'false'] as const;

export const cedarMonarch: monaco.languages.IMonarchLanguage = {
  defaultToken: '',
  keywords: [...CEDAR_KEYWORDS],
  tokenizer: {
    root: [
      [/\/\/.*$/, 'comment'],
      [/@[A-Za-z_]\w*/, 'annotation'],
      // Entity types and namespaces: Lab::Role::"officer" — the path is a type, the id a string.
      [/[A-Za-z_]\w*(?=\s*::)/, 'type'],
      [/[A-Za-z_]\w*/, { cases: { '@keywords': 'keyword', '@default': 'identifier' } }],
      [/"/, { token: 'string.quote', next: '@string' }],
      [/\d+/, 'number'],
      [/::/, 'delimiter'],
      [/[{}()[\]]/, '@brackets'],
      [/==|!=|<=|>=|&&|\|\||[<>!+\-*]/, 'operator'],
      [/[;,.]/, 'delimiter'],
      [/\s+/, 'white'],
    ],
    string: [
      [/[^\\"]+/, 'string'],
      [/\\./, 'string.escape'],
      [/"/, { token: 'string.quote', next: '@pop' }],
    ],
  },
};

let registered = false;

export function registerCedarLanguage(): void {
  if (registered) return;
  registered = true;
  monaco.languages.register({ id: CEDAR_LANGUAGE_ID, extensions: ['.cedar'] });
  monaco.languages.setLanguageConfiguration(CEDAR_LANGUAGE_ID, {
    comments: { lineComment: '//' },
    brackets: [['{', '}'], ['[', ']'], ['(', ')']],
    autoClosingPairs: [{ open: '{', close: '}' }, { open: '[', close: ']' }, { open: '(', close: ')' }, { open: '"', close: '"', notIn: ['string', 'comment'] }],
    surroundingPairs: [{ open: '{', close: '}' }, { open: '[', close: ']' }, { open: '(', close: ')' }, { open: '"', close: '"' }],
    wordPattern: /@?[A-Za-z_][A-Za-z0-9_]*|-?\d+/,
  });
  monaco.languages.setMonarchTokensProvider(CEDAR_LANGUAGE_ID, cedarMonarch);
  monaco.editor.defineTheme(CEDAR_THEME_ID, {
    base: 'vs', inherit: true,
    rules: [
      { token: 'keyword', foreground: '1f6feb', fontStyle: 'bold' },
      { token: 'annotation', foreground: 'bf8700' },
      { token: 'type', foreground: '8250df' },
      { token: 'string', foreground: 'a40e26' },
      { token: 'string.quote', foreground: 'a40e26' },
      { token: 'comment', foreground: '6e7781', fontStyle: 'italic' },
      { token: 'number', foreground: '116329' },
      { token: 'operator', foreground: '57606a' },
    ],
    colors: { 'editor.background': '#ffffff' },
  });
}
