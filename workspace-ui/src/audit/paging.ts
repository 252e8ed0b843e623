/**
 * Paging the audit trail newest first over GET /api/audit, which pages by seq from the oldest. A
 * snapshot of the head (the newest seq when the page was opened or refreshed) keeps the pages
 * stable while entries are added (each read is itself recorded). Pure.
 */
export interface SeqWindow { readonly from: number; readonly limit: number }

/** Page `page` (1 = newest) of `size` entries below `head`; undefined past the oldest entry. */
export function windowOf(head: number, page: number, size: number): SeqWindow | undefined {
  const last = head - (page - 1) * size;
  if (last < 1 || page < 1 || size < 1) return undefined;
  const from = Math.max(1, last - size + 1);
  return { from, limit: last - from + 1 };
}

/** The page (1 = newest) holding `seq` under `head`. */
export function pageOfSeq(head: number, seq: number, size: number): number {
  if (seq > head) return 1;
  return Math.floor((head - seq) / size) + 1;
}
