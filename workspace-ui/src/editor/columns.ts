/**
 * The columns a node's input port receives, for column pickers and expression completion. The
 * server's inference (POST /api/pipelines/validate) is the truth; until the pipeline has validated
 * once, the columns of the dataset upstream (catalog metadata) stand in, marked as such. Operators
 * are not re-implemented here: a node whose output is unknown passes its input's columns on.
 */
import type { Bilingual, CatalogColumn, CatalogDataset, NodeOutput, OperatorInfo } from '../api/types.ts';
import type { ExprColumn } from '../expr/expr-types.ts';
import type { EditorDoc } from './model.ts';

export type Outputs = ReadonlyMap<string, Readonly<Record<string, NodeOutput>>>;

export interface InputColumns {
  readonly columns: readonly ExprColumn[] | undefined;
  /** validated: from the server's inference; catalog: the upstream dataset's columns; none: not connected. */
  readonly source: 'validated' | 'catalog' | 'none';
}

const EXPR_TYPE: Readonly<Record<string, string>> = { bigint: 'int', bytea: 'bytes' };
const IDENTIFIERS = new Set(['id_number', 'name', 'phone', 'address', 'photo', 'face_template', 'record_id']);

/** The dataset ids read by nodes upstream of (and including) `nodeId`, through their `dataset` widget parameters. */
export function upstreamDatasets(doc: EditorDoc, nodeId: string, ops: ReadonlyMap<string, OperatorInfo>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const node = doc.nodes.find((n) => n.id === id);
    const op = node ? ops.get(node.op) : undefined;
    if (node && op) {
      for (const [param, hint] of Object.entries(op.ui)) {
        const v = node.params[param];
        if (hint.widget === 'dataset' && typeof v === 'string' && v) out.push(v);
      }
    }
    for (const e of doc.edges) if (e.target === id) visit(e.source);
  };
  visit(nodeId);
  return out;
}

function catalogColumn(c: CatalogColumn): ExprColumn {
  return {
    name: c.name, type: EXPR_TYPE[c.type] ?? c.type, level: c.level, semantic: c.semantic,
    identifier: IDENTIFIERS.has(c.semantic), label: c.label, values: c.values,
  };
}

export function inputColumns(
  doc: EditorDoc, nodeId: string, port: string, outputs: Outputs,
  ops: ReadonlyMap<string, OperatorInfo>, catalog: readonly CatalogDataset[],
): InputColumns {
  const edge = doc.edges.find((e) => e.target === nodeId && e.targetPort === port);
  if (!edge) return { columns: undefined, source: 'none' };
  const byName = new Map<string, CatalogColumn>();
  for (const id of upstreamDatasets(doc, edge.source, ops).reverse()) {
    for (const c of catalog.find((d) => d.id === id)?.columns ?? []) byName.set(c.name, c);
  }
  const inferred = outputs.get(edge.source)?.[edge.sourcePort];
  if (inferred) {
    return {
      source: 'validated',
      columns: inferred.columns.map((c): ExprColumn => {
        const known = byName.get(c.name);
        return {
          name: c.name, type: c.type, level: c.level, identifier: c.identifier,
          semantic: known?.semantic ?? (c.identifier ? 'record_id' : 'category'),
          ...(known ? { label: known.label, values: known.values } : {}),
        };
      }),
    };
  }
  // Not validated yet: follow the pipeline up to a dataset and offer its columns.
  const [first] = upstreamDatasets(doc, edge.source, ops);
  const ds = first ? catalog.find((d) => d.id === first) : undefined;
  if (!ds) return { columns: undefined, source: 'none' };
  return { source: 'catalog', columns: ds.columns.map(catalogColumn) };
}

/** A column's label for pickers: `age_band` or `性别 sex`. */
export function columnLabel(c: ExprColumn, pick: (b: Bilingual | undefined) => string): string {
  const l = pick(c.label);
  return l && l !== c.name ? `${l} · ${c.name}` : c.name;
}
