import '../expr/monaco-env.ts';
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution.js';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard.js';
import 'monaco-editor/editor/contrib/comment/browser/comment.js';
import 'monaco-editor/editor/contrib/find/browser/findController.js';
import { useEffect, useLayoutEffect, useRef } from 'react';
import type { PolicyProblem } from '../api/types.ts';
import { applyMovedStyles } from '../styles/csp-styles.ts';
import { CEDAR_LANGUAGE_ID, CEDAR_THEME_ID, registerCedarLanguage } from './cedar-language.ts';
import { markerRange } from './markers.ts';

export interface CedarEditorProps {
  readonly value: string;
  readonly onChange?: (value: string) => void;
  /** The server's problems: each with a line becomes an error marker there. */
  readonly problems?: readonly PolicyProblem[];
  readonly readOnly?: boolean;
  readonly ariaLabel: string;
  /** Move the cursor to a problem (a new object each time it is asked). */
  readonly reveal?: { readonly line: number; readonly column: number };
}

const OWNER = 'lab-cedar-check';

/** The Cedar text in Monaco: highlighting, line numbers, the server's problems as markers on their line and column. */
export default function CedarEditor({ value, onChange, problems = [], readOnly = false, ariaLabel, reveal }: CedarEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const emitted = useRef(value);

  useEffect(() => {
    const el = host.current;
    if (!el) return undefined;
    registerCedarLanguage();
    const stopStyles = applyMovedStyles(el);
    const model = monaco.editor.createModel(value, CEDAR_LANGUAGE_ID);
    const editor = monaco.editor.create(el, {
      model, theme: CEDAR_THEME_ID, ariaLabel, readOnly, domReadOnly: readOnly,
      minimap: { enabled: false }, lineNumbers: 'on', glyphMargin: false, folding: false, lineNumbersMinChars: 3,
      scrollBeyondLastLine: false, automaticLayout: true, fontSize: 13, lineHeight: 19, tabSize: 2,
      renderLineHighlight: readOnly ? 'none' : 'line', fixedOverflowWidgets: true, contextmenu: false, links: false,
      quickSuggestions: false, wordBasedSuggestions: 'off', unicodeHighlight: { ambiguousCharacters: false }, scrollbar: { alwaysConsumeMouseWheel: false },
    });
    editorRef.current = editor;
    const sub = model.onDidChangeContent(() => {
      emitted.current = model.getValue();
      onChangeRef.current?.(emitted.current);
    });
    return () => {
      sub.dispose();
      editor.dispose();
      model.dispose();
      stopStyles();
      editorRef.current = null;
    };
    // Created once; value, problems and read-only are synchronised below.
  }, []);

  // A value from outside (a version loaded, edits discarded): replace the text (one undo step).
  useLayoutEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model || value === emitted.current) return;
    emitted.current = value;
    if (model.getValue() !== value) model.setValue(value);
  }, [value]);

  useEffect(() => { editorRef.current?.updateOptions({ readOnly, domReadOnly: readOnly }); }, [readOnly]);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model) return;
    const lines = model.getLinesContent();
    monaco.editor.setModelMarkers(model, OWNER, problems.flatMap((p) => {
      const range = markerRange(p, lines);
      if (!range) return [];
      const text = [p.policyId ? `@id("${p.policyId}")` : '', p.message, p.help ?? ''].filter(Boolean).join('\n');
      return [{ ...range, severity: monaco.MarkerSeverity.Error, message: text, source: 'Cedar' }];
    }));
  }, [problems]);

  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || !reveal) return;
    editor.revealLineInCenter(reveal.line);
    editor.setPosition({ lineNumber: reveal.line, column: reveal.column });
    editor.focus();
  }, [reveal]);

  return <div ref={host} className="lab-cedar-host" data-testid="cedar-editor" />;
}
