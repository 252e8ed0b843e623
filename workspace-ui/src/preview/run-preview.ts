/**
 * The editor's preview of one node's output on mock rows: the pipeline evaluated in the browser
 * from its sources down to that node, over rows made up from the catalog (`mock-rows.ts`) — never
 * over real rows; nothing is sent to the server. Rows operators (source, filter, derive) and
 * grouping (aggregate, geo-rollup: the finest grouping only, no guard) are evaluated; other
 * operators (joins across domains, tags, protocol steps …) say they have no mock preview.
 */
import { parseExpression } from '../../../sandbox/expr/index.ts';
import type { CatalogDataset } from '../api/types.ts';
import type { EditorDoc } from '../editor/model.ts';
import { evaluate, type Row, type Value } from './evaluate-expr.ts';
import { mockRows, type MockContext } from './mock-rows.ts';

export const MOCK_ROWS = 200;

/** A table node's grouping: the mock rows that reach it, its keys (finest first) and its measures. */
export interface MockAggregate { readonly rows: readonly Row[]; readonly keys: readonly string[]; readonly measures: readonly Measure[]; readonly names: readonly string[] }

export type PreviewResult =
  | { readonly ok: true; readonly kind: 'rows' | 'table'; readonly columns: readonly string[]; readonly rows: readonly Row[]; readonly sourceRows: number; readonly aggregate?: MockAggregate }
  | { readonly ok: false; readonly reason: 'unsupported'; readonly op: string; readonly nodeId: string }
  | { readonly ok: false; readonly reason: 'incomplete' | 'expression'; readonly nodeId: string; readonly detail?: string };

interface Rel { readonly kind: 'rows' | 'table'; readonly columns: readonly string[]; readonly rows: readonly Row[]; readonly sourceRows: number; readonly aggregate?: MockAggregate }
class Stop extends Error { constructor(readonly result: Exclude<PreviewResult, { ok: true }>) { super(result.reason); } }

const opId = (op: string) => op.split('@')[0] ?? op;
const hashSeed = (s: string) => { let h = 2166136261; for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619); return h >>> 0; };

function expr(text: unknown, nodeId: string) {
  if (typeof text !== 'string' || !text.trim()) throw new Stop({ ok: false, reason: 'incomplete', nodeId });
  try { return parseExpression(text); } catch (e) { throw new Stop({ ok: false, reason: 'expression', nodeId, detail: e instanceof Error ? e.message : String(e) }); }
}

export interface Measure { readonly kind: string; readonly column?: string; readonly name?: string }
export const measureName = (m: Measure): string => m.name ?? (m.kind === 'count_persons' ? 'persons' : `${m.kind}_${m.column ?? ''}`);
function group(input: Rel, keys: readonly string[], measures: readonly Measure[]): Rel {
  const names = measures.map(measureName);
  const groups = new Map<string, { keys: Value[]; rows: Row[] }>();
  for (const r of input.rows) {
    const k = keys.map((c) => r[c] ?? null);
    const id = JSON.stringify(k);
    const g = groups.get(id) ?? { keys: k, rows: [] };
    g.rows.push(r);
    groups.set(id, g);
  }
  const rows = [...groups.values()].sort((a, b) => (JSON.stringify(a.keys) < JSON.stringify(b.keys) ? -1 : 1)).map((g) => {
    const out: Record<string, Value> = Object.fromEntries(keys.map((k, i) => [k, g.keys[i] ?? null]));
    measures.forEach((m, i) => {
      const vals = m.column ? g.rows.map((r) => r[m.column as string] ?? null).filter((v) => v !== null) : [];
      const nums = vals.map(Number);
      out[names[i] as string] = m.kind === 'count_persons' ? g.rows.length
        : m.kind === 'count_distinct' ? new Set(vals.map(String)).size
        : m.kind === 'sum' ? nums.reduce((a, b) => a + b, 0)
        : nums.length ? Math.round((nums.reduce((a, b) => a + b, 0) / nums.length) * 100) / 100 : null;
    });
    return out;
  });
  return { kind: 'table', columns: [...keys, ...names], rows, sourceRows: input.sourceRows, aggregate: { rows: input.rows, keys, measures, names } };
}

/** The output of `nodeId` on mock rows (its first output port). */
export function previewNode(doc: EditorDoc, nodeId: string, catalog: readonly CatalogDataset[], ctx: MockContext, n = MOCK_ROWS): PreviewResult {
  const memo = new Map<string, Rel>();
  const inputOf = (id: string, port: string): Rel => {
    const e = doc.edges.find((x) => x.target === id && x.targetPort === port) ?? doc.edges.find((x) => x.target === id);
    if (!e) throw new Stop({ ok: false, reason: 'incomplete', nodeId: id });
    return run(e.source);
  };
  const run = (id: string): Rel => {
    const done = memo.get(id);
    if (done) return done;
    const node = doc.nodes.find((x) => x.id === id);
    if (!node) throw new Stop({ ok: false, reason: 'incomplete', nodeId: id });
    const p = node.params;
    let out: Rel;
    switch (opId(node.op)) {
      case 'source': {
        const ds = catalog.find((d) => d.id === p['dataset']);
        if (!ds) throw new Stop({ ok: false, reason: 'incomplete', nodeId: id });
        out = { kind: 'rows', columns: ds.columns.map((c) => c.name), rows: mockRows(ds, ctx, n, hashSeed(`${ds.id}:${id}`)), sourceRows: n };
        break;
      }
      case 'filter': {
        const input = inputOf(id, 'rows');
        const cond = expr(p['condition'], id);
        out = { ...input, rows: input.rows.filter((r) => evaluate(cond, r, ctx.asOf) === true) };
        break;
      }
      case 'derive': {
        const input = inputOf(id, 'rows');
        const defs = Array.isArray(p['columns']) ? (p['columns'] as { name?: unknown; expr?: unknown }[]) : [];
        const parsed = defs.map((d) => ({ name: typeof d.name === 'string' && d.name ? d.name : '', e: expr(d.expr, id) }));
        if (parsed.some((d) => !d.name)) throw new Stop({ ok: false, reason: 'incomplete', nodeId: id });
        out = {
          ...input, columns: [...input.columns.filter((c) => !parsed.some((d) => d.name === c)), ...parsed.map((d) => d.name)],
          rows: input.rows.map((r) => ({ ...r, ...Object.fromEntries(parsed.map((d) => [d.name, evaluate(d.e, r, ctx.asOf)])) })),
        };
        break;
      }
      case 'aggregate': {
        const by = Array.isArray(p['groupBy']) ? (p['groupBy'] as string[]) : [];
        out = group(inputOf(id, 'rows'), by, Array.isArray(p['measures']) ? (p['measures'] as Measure[]) : [{ kind: 'count_persons' }]);
        break;
      }
      case 'geo-rollup': {
        const levels = ['district', 'street', 'community', 'grid'];
        const depth = typeof p['depth'] === 'string' ? p['depth'] : 'grid';
        const prefix = typeof p['prefix'] === 'string' ? p['prefix'] : '';
        const geo = levels.slice(0, levels.indexOf(depth) + 1).map((l) => `${prefix}${l}_code`);
        const by = Array.isArray(p['by']) ? (p['by'] as string[]) : [];
        out = group(inputOf(id, 'rows'), [...geo, ...by], Array.isArray(p['measures']) ? (p['measures'] as Measure[]) : [{ kind: 'count_persons' }]);
        break;
      }
      case 'output': out = inputOf(id, 'table'); break;
      default: throw new Stop({ ok: false, reason: 'unsupported', op: node.op, nodeId: id });
    }
    memo.set(id, out);
    return out;
  };
  try {
    const r = run(nodeId);
    return { ok: true, kind: r.kind, columns: r.columns, rows: r.rows, sourceRows: r.sourceRows, ...(r.aggregate ? { aggregate: r.aggregate } : {}) };
  } catch (e) {
    if (e instanceof Stop) return e.result;
    throw e;
  }
}
