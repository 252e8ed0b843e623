import { useEffect, useState } from 'react';
import { post } from '../api/client.ts';
import type { DisclosurePreview } from '../api/types.ts';
import { toDocument, type EditorDoc } from './model.ts';

/**
 * The disclosure preview of the current pipeline (POST /api/pipelines/disclosure-preview), asked
 * once per valid document (`key`: the validation key): the policy's guard for this user and each
 * table's keys and totals. No data is read for it.
 */
export function useDisclosurePreview(doc: EditorDoc, key: string, valid: boolean): DisclosurePreview | undefined {
  const [state, setState] = useState<{ key: string; preview: DisclosurePreview } | undefined>();
  useEffect(() => {
    if (!valid || state?.key === key) return undefined;
    let live = true;
    post<DisclosurePreview>('/api/pipelines/disclosure-preview', toDocument(doc)).then(
      (preview) => { if (live) setState({ key, preview }); },
      () => { /* shown again after the next valid change */ },
    );
    return () => { live = false; };
    // Asked again only when the document's meaning (its key) changes, not on every move.
  }, [key, valid]);
  return state?.key === key ? state.preview : undefined;
}
