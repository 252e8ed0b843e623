/**
 * The one way the workspace talks to the lab: same-origin fetch with the session cookie, the CSRF
 * token on every state-changing request (`x-csrf-token`, as server/middleware/csrf expects), the
 * user's language in Accept-Language (the server answers error messages in it), and every error
 * body turned into an `ApiError` carrying the LAB-E code, node and field.
 */
import type { ErrorBody, PipelineErrors } from './types.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly body: PipelineErrors;

  constructor(status: number, body: PipelineErrors) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }

  /** Every problem the server named (a pipeline refused for several nodes lists one per node). */
  get errors(): readonly ErrorBody[] {
    return this.body.errors?.length ? this.body.errors : [this.body];
  }
}

let csrfToken: string | undefined;
let language = 'zh-CN';
const unauthorizedListeners = new Set<() => void>();

export const setCsrfToken = (token: string | undefined): void => { csrfToken = token; };
export const setApiLanguage = (lang: string): void => { language = lang; };

/** Called when the server says the session is gone (401), so the app can show the sign-in page. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => { unauthorizedListeners.delete(listener); };
}

function isErrorBody(v: unknown): v is PipelineErrors {
  return typeof v === 'object' && v !== null && typeof (v as { code?: unknown }).code === 'string' && typeof (v as { message?: unknown }).message === 'string';
}

export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'accept-language': language };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, { code: 'NETWORK', message: '' });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/auth/login') for (const l of unauthorizedListeners) l();
    throw new ApiError(res.status, isErrorBody(parsed) ? parsed : { code: `HTTP ${res.status}`, message: res.statusText });
  }
  return parsed as T;
}

export const get = <T>(path: string): Promise<T> => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown): Promise<T> => request<T>('POST', path, body);
