/** The line under a node's title: its first parameters as a user reads them (dataset names, choices, values). */
import type { TFunction } from 'i18next';
import type { CatalogDataset, OperatorInfo } from '../api/types.ts';
import type { EditorNode } from './model.ts';

export function summaryOf(node: EditorNode, op: OperatorInfo | undefined, catalog: readonly CatalogDataset[], pick: (b: { zh: string; en: string } | undefined) => string, t: TFunction): string {
  if (!op) return '';
  const parts: string[] = [];
  for (const [name, schema] of Object.entries(op.params.properties ?? {})) {
    const v = node.params[name];
    if (typeof v === 'string' && v) {
      if (op.ui[name]?.widget === 'dataset') parts.push(pick(catalog.find((d) => d.id === v)?.label) || v);
      else if (schema.enum) parts.push(t(`enum.${v}`, { defaultValue: v }));
      else parts.push(v);
    } else if (Array.isArray(v) && v.length) {
      parts.push(v.every((x) => typeof x === 'string') ? v.join(', ') : v.map((x) => (typeof x === 'object' && x !== null ? Object.values(x).filter((y) => typeof y === 'string').join(' = ') : String(x))).join('; '));
    }
    if (parts.length >= 2) break;
  }
  return parts.join(' · ');
}
