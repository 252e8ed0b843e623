import type { TFunction } from 'i18next';
import { ApiError } from '../api/client.ts';

/** A failure as the user reads it: the server's LAB-E code and message, else a generic line. */
export function errorText(e: unknown, t: TFunction): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return t('common.networkError');
    return `${e.body.code} · ${e.body.message}${e.body.hint ? ` — ${e.body.hint}` : ''}`;
  }
  return t('common.unexpected');
}
