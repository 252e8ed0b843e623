import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, post } from '../api/client.ts';
import type { ErrorBody, NodeOutput, ValidationResult } from '../api/types.ts';
import { toDocument, type EditorDoc } from './model.ts';

export type ValidationStatus = 'empty' | 'checking' | 'valid' | 'invalid' | 'failed';

export interface Validation {
  readonly status: ValidationStatus;
  /** One per broken node, as the server names them (code, message, nodeId, field, span). */
  readonly errors: readonly ErrorBody[];
  /** Inferred outputs of every node from the last document that validated (kept while later edits are invalid). */
  readonly outputs: ReadonlyMap<string, Readonly<Record<string, NodeOutput>>>;
  /** Checks the current document now; true when valid. */
  readonly validateNow: () => Promise<boolean>;
}

const DELAY_MS = 450;

/** What validation depends on: everything but positions (moving a node does not re-check it). */
export function validationKey(doc: EditorDoc): string {
  return JSON.stringify(toDocument({ ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: { x: 0, y: 0 } })) }));
}

/** Validates the pipeline with POST /api/pipelines/validate a moment after each change. */
export function useValidation(doc: EditorDoc, language: string): Validation {
  const key = useMemo(() => validationKey(doc), [doc]);
  const [state, setState] = useState<{ key: string; status: ValidationStatus; errors: readonly ErrorBody[] }>({ key: '', status: 'empty', errors: [] });
  const [outputs, setOutputs] = useState<ReadonlyMap<string, Readonly<Record<string, NodeOutput>>>>(new Map());
  const seq = useRef(0);
  const docRef = useRef(doc);
  docRef.current = doc;

  const check = useCallback(async (): Promise<boolean> => {
    const current = docRef.current;
    const k = validationKey(current);
    const mine = ++seq.current;
    if (current.nodes.length === 0) {
      setState({ key: k, status: 'empty', errors: [] });
      return false;
    }
    setState((s) => ({ key: k, status: 'checking', errors: s.errors }));
    try {
      const res = await post<ValidationResult>('/api/pipelines/validate', toDocument(current));
      if (mine !== seq.current) return true;
      setOutputs(new Map(res.nodes.map((n) => [n.id, n.outputs])));
      setState({ key: k, status: 'valid', errors: [] });
      return true;
    } catch (e) {
      if (mine !== seq.current) return false;
      if (e instanceof ApiError && e.status === 422) setState({ key: k, status: 'invalid', errors: e.errors });
      else setState({ key: k, status: 'failed', errors: e instanceof ApiError ? e.errors : [] });
      return false;
    }
  }, []);

  useEffect(() => {
    const timer = window.setTimeout(() => { void check(); }, DELAY_MS);
    return () => { window.clearTimeout(timer); };
  }, [key, language, check]);

  const stale = state.key !== key;
  return { status: stale && doc.nodes.length > 0 ? 'checking' : state.status, errors: state.errors, outputs, validateNow: check };
}
