/** Presentation of catalog metadata shared by the catalog page and the editor: level colours, domain order. */
import type { Level } from '../api/types.ts';

/** L1 public → L4 core-sensitive: green, blue, orange, red (the same everywhere in the workspace). */
export const LEVEL_COLOR: Readonly<Record<Level, string>> = { L1: 'green', L2: 'blue', L3: 'orange', L4: 'red' };

export const DOMAIN_ORDER = ['registry', 'social', 'health', 'civil', 'housing', 'grid'] as const;

export const IDENTIFIER_SEMANTICS: ReadonlySet<string> = new Set(['id_number', 'name', 'phone', 'address', 'photo', 'face_template', 'record_id']);

export function domainRank(domain: string): number {
  const i = (DOMAIN_ORDER as readonly string[]).indexOf(domain);
  return i < 0 ? DOMAIN_ORDER.length : i;
}
