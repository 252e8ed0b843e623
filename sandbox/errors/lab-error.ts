import { ERROR_CODES, type ErrorCode, type ErrorKind } from './codes.ts';

export interface LabErrorOptions {
  /** Human detail in both languages; must never contain a secret or a suppressed value. */
  readonly detail?: { readonly zh: string; readonly en: string };
  readonly hint?: { readonly zh: string; readonly en: string };
  /** The pipeline node the error is about, when there is one. */
  readonly nodeId?: string;
  /** The field (JSON path or parameter name) the error is about. */
  readonly field?: string;
  /** Character range in the text the error is about (expressions, policy files): [start, end). */
  readonly span?: Span;
  readonly cause?: unknown;
}

export interface Span { readonly start: number; readonly end: number }

export type Lang = 'zh-CN' | 'en';

/** The one error family of the lab. Throw it with a code from codes.ts. */
export class LabError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly status: number;
  readonly detail: { readonly zh: string; readonly en: string } | undefined;
  readonly hint: { readonly zh: string; readonly en: string } | undefined;
  readonly nodeId: string | undefined;
  readonly field: string | undefined;
  readonly span: Span | undefined;

  constructor(code: ErrorCode, options: LabErrorOptions = {}) {
    const spec = ERROR_CODES[code];
    super(options.detail ? `${spec.en}: ${options.detail.en}` : spec.en, { cause: options.cause });
    this.name = 'LabError';
    this.code = code;
    this.kind = spec.kind;
    this.status = spec.status;
    this.detail = options.detail;
    this.hint = options.hint;
    this.nodeId = options.nodeId;
    this.field = options.field;
    this.span = options.span;
  }

  /** The message in the requested language: the code's title, then the detail. */
  messageIn(lang: Lang): string {
    const spec = ERROR_CODES[this.code];
    if (lang === 'zh-CN') return this.detail ? `${spec.zh}：${this.detail.zh}` : spec.zh;
    return this.detail ? `${spec.en}: ${this.detail.en}` : spec.en;
  }

  /** The wire form the API answers with. */
  toBody(lang: Lang): LabErrorBody {
    return {
      code: this.code,
      message: this.messageIn(lang),
      ...(this.hint ? { hint: lang === 'zh-CN' ? this.hint.zh : this.hint.en } : {}),
      ...(this.nodeId !== undefined ? { nodeId: this.nodeId } : {}),
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.span !== undefined ? { span: { start: this.span.start, end: this.span.end } } : {}),
    };
  }
}

export interface LabErrorBody {
  code: ErrorCode;
  message: string;
  hint?: string;
  nodeId?: string;
  field?: string;
  span?: { start: number; end: number };
}

export const isLabError = (e: unknown): e is LabError => e instanceof LabError;

/** Convenience for bilingual text. */
export const t = (zh: string, en: string) => ({ zh, en }) as const;
