/**
 * Autosave of the canvas: the pipeline being edited is kept in the browser's local storage, one
 * draft per user (never shared between the people who use one browser), so a closed tab or a lost
 * session does not lose work. A draft holds the pipeline document only — never data.
 */
import type { PipelineDocument } from '../api/types.ts';

export interface Draft {
  readonly doc: PipelineDocument;
  /** When it was written (ISO time). */
  readonly savedAt: string;
}

/** The part of the Web Storage API a draft needs (local storage in the browser, a map in tests). */
export interface DraftStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const draftKey = (username: string): string => `lab:draft:v1:${username}`;

function isDoc(v: unknown): v is PipelineDocument {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as { specVersion?: unknown; name?: unknown; nodes?: unknown };
  return d.specVersion === 1 && typeof d.name === 'string' && Array.isArray(d.nodes)
    && d.nodes.every((n) => typeof n === 'object' && n !== null && typeof (n as { id?: unknown }).id === 'string' && typeof (n as { op?: unknown }).op === 'string');
}

/** The user's draft, or undefined when there is none (or it is unreadable, or empty). */
export function readDraft(storage: DraftStorage, username: string): Draft | undefined {
  let raw: string | null;
  try { raw = storage.getItem(draftKey(username)); } catch { return undefined; }
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as { doc?: unknown; savedAt?: unknown };
    if (!isDoc(v.doc) || typeof v.savedAt !== 'string' || v.doc.nodes.length === 0) return undefined;
    return { doc: v.doc, savedAt: v.savedAt };
  } catch {
    return undefined;
  }
}

/** Writes the draft (an empty canvas removes it). False when the storage refused (full, disabled). */
export function writeDraft(storage: DraftStorage, username: string, doc: PipelineDocument, now: Date): boolean {
  try {
    if (doc.nodes.length === 0) storage.removeItem(draftKey(username));
    else storage.setItem(draftKey(username), JSON.stringify({ doc, savedAt: now.toISOString() }));
    return true;
  } catch {
    return false;
  }
}

export function clearDraft(storage: DraftStorage, username: string): void {
  try { storage.removeItem(draftKey(username)); } catch { /* nothing to clear */ }
}

/** How long after the last change the draft is written. */
export const AUTOSAVE_MS = 600;
