import './monaco-env.ts';
import * as monaco from 'monaco-editor/editor/editor.api.js';
// The suggest widget brings the codicon font and its CSS.
import 'monaco-editor/editor/contrib/suggest/browser/suggestController.js';
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution.js';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/editor/contrib/placeholderText/browser/placeholderText.contribution.js';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard.js';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { applyMovedStyles } from '../styles/csp-styles.ts';
import { diagnose, dropContext, LANGUAGE_ID, registerExpressionLanguage, setContext, THEME_ID } from './expr-language.ts';
import type { ExprContext } from './expr-types.ts';

export interface MonacoExpressionProps {
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly context: ExprContext;
  readonly placeholder?: string;
  readonly ariaLabel: string;
  readonly invalid?: boolean;
}

const LINE = 20;

/** One expression in Monaco, sized to its content (2–10 lines); the problem the checker finds is shown under it. */
export default function MonacoExpression({ value, onChange, context, placeholder, ariaLabel, invalid }: MonacoExpressionProps) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const contextRef = useRef(context);
  contextRef.current = context;
  /** What the editor last reported: a render that brings it back is not a change from outside. */
  const emitted = useRef(value);
  const [height, setHeight] = useState(LINE * 2 + 8);
  const [problem, setProblem] = useState<string | undefined>();

  useEffect(() => {
    const el = host.current;
    if (!el) return undefined;
    registerExpressionLanguage();
    const stopStyles = applyMovedStyles(el);
    const model = monaco.editor.createModel(value, LANGUAGE_ID);
    const editor = monaco.editor.create(el, {
      model, theme: THEME_ID, ariaLabel, placeholder,
      minimap: { enabled: false }, lineNumbers: 'off', glyphMargin: false, folding: false, lineDecorationsWidth: 6, lineNumbersMinChars: 0,
      scrollBeyondLastLine: false, wordWrap: 'on', wrappingIndent: 'indent', automaticLayout: true, fontSize: 13, lineHeight: LINE,
      renderLineHighlight: 'none', overviewRulerLanes: 0, hideCursorInOverviewRuler: true, scrollbar: { vertical: 'auto', horizontal: 'hidden', alwaysConsumeMouseWheel: false },
      fixedOverflowWidgets: true, suggest: { showWords: false, preview: true }, quickSuggestions: { other: true, strings: true, comments: false }, tabCompletion: 'on',
      contextmenu: false, links: false, occurrencesHighlight: 'off', selectionHighlight: false, unicodeHighlight: { ambiguousCharacters: false },
    });
    editorRef.current = editor;
    setContext(model, contextRef.current);
    const refresh = () => {
      const p = diagnose(model.getValue(), contextRef.current);
      setProblem(p?.message);
    };
    refresh();
    const subs = [
      model.onDidChangeContent(() => {
        setContext(model, contextRef.current);
        refresh();
        emitted.current = model.getValue();
        onChangeRef.current(emitted.current);
      }),
      editor.onDidContentSizeChange((e) => { setHeight(Math.min(LINE * 10, Math.max(LINE * 2, e.contentHeight)) + 8); }),
    ];
    return () => {
      for (const s of subs) s.dispose();
      dropContext(model);
      editor.dispose();
      model.dispose();
      stopStyles();
      editorRef.current = null;
    };
    // The editor is created once; value, context and options are synchronised below.
  }, []);

  // Undo on the canvas, loading an example: the value changes from outside. A layout effect, so it
  // runs in the commit of the render that carries the value: a passive effect could run after the
  // next keystroke and take the render's (older) value for a change from outside.
  useLayoutEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model || value === emitted.current) return;
    emitted.current = value;
    if (model.getValue() !== value) model.setValue(value);
  }, [value]);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model) return;
    setContext(model, context);
    setProblem(diagnose(model.getValue(), context)?.message);
  }, [context]);

  return (
    <div className={`lab-expr${invalid || problem ? ' lab-expr-invalid' : ''}`}>
      <div ref={host} className="lab-expr-host" data-height={height} style={{ height }} />
      {problem && <div className="lab-expr-problem" role="status">{problem}</div>}
    </div>
  );
}
