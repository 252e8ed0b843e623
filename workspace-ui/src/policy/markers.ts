/**
 * Where a policy problem goes in the editor: the server names line and column (1-based) of what it
 * could not accept; the marker spans the word starting there (at least one character), clamped to
 * the text. Problems without a line (the disclosure parameters) are not markers. Pure.
 */
import type { PolicyProblem } from '../api/types.ts';

export interface MarkerRange { readonly startLineNumber: number; readonly startColumn: number; readonly endLineNumber: number; readonly endColumn: number }

export function markerRange(p: Pick<PolicyProblem, 'line' | 'column'>, lines: readonly string[]): MarkerRange | undefined {
  if (p.line === null || p.line < 1 || lines.length === 0) return undefined;
  const lineNumber = Math.min(p.line, lines.length);
  const text = lines[lineNumber - 1] ?? '';
  const startColumn = Math.max(1, Math.min(p.column ?? 1, text.length + 1));
  const rest = text.slice(startColumn - 1);
  const word = /^(@?[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*|"(?:[^"\\]|\\.)*"?|\S)/.exec(rest);
  const length = word ? word[0].length : 1;
  return { startLineNumber: lineNumber, startColumn, endLineNumber: lineNumber, endColumn: startColumn + Math.max(1, length) };
}

/**
 * A parameters problem names its path first ("params.staff.threshold: Too small …"): the path
 * inside the parameters object, and the message without it.
 */
export function paramProblemPath(message: string): { path: string[]; text: string } | undefined {
  const m = /^params((?:\.[A-Za-z0-9_]+)*):\s*(.*)$/s.exec(message);
  if (!m) return undefined;
  return { path: (m[1] ?? '').split('.').filter(Boolean), text: m[2] ?? '' };
}
