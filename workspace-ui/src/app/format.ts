/** Times and decimals as the user reads them, in the workspace's language. Pure. */
import type { PrivacyBudget } from '../api/types.ts';
import type { Lang } from '../i18n/lang.ts';

export function formatTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** An exact decimal from the API ("1.000000") without trailing zeros ("1"). */
export function formatDecimal(text: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return text;
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

export const shortId = (id: string): string => (id.length > 8 ? id.slice(0, 8) : id);

/** Spent share of a budget in percent (0–100), from the API's exact decimals. */
export function spentPercent(b: Pick<PrivacyBudget, 'total' | 'spent'>): number {
  const total = Number(b.total);
  const spent = Number(b.spent);
  if (!(total > 0) || !Number.isFinite(spent)) return 0;
  return Math.min(100, Math.max(0, Math.round((spent / total) * 1000) / 10));
}
