import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { OPERATORS, TAG_LIBRARY } from '../../operators/index.ts';
import { CATALOG } from '../../sandbox/domains/catalog/index.ts';
import type { ColumnInfo } from '../../sandbox/expr/index.ts';
import { validatePipeline } from '../../sandbox/pipeline/validate.ts';
import { exprArbitraries, HOSTILE_FRAGMENTS } from './expr-arbitraries.ts';
import { columnsOf } from './fuzz-support.ts';

/**
 * Mutated pipeline documents: the example pipelines (and a few more built from them) with nodes
 * dropped, duplicated, renamed and rewired, operators and versions changed, parameters replaced by
 * random JSON or wrong types, huge arrays, deep nesting, prototype keys, generated expressions and
 * column names. Mutations are plain data (printable in a counterexample), applied by `mutate`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const examplesDir = new URL('../../examples/pipelines/', import.meta.url);
/** The example pipelines of the repository, by file name. */
export const EXAMPLES: Readonly<Record<string, Obj>> = Object.fromEntries(readdirSync(examplesDir).filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, examplesDir), 'utf8')) as Obj]));

const node = (id: string, op: string, inputs: Record<string, string>, params: Obj): Obj => ({ id, op, inputs, params });
const out = (id: string, from: string): Obj => node(id, 'output@1', { table: from }, { title: id });

/** More shapes than the examples have: joins inside and across domains, sums and means, anti joins. */
const EXTRA: Readonly<Record<string, Obj>> = {
  'join-household': { specVersion: 1, name: 'persons × households', nodes: [
    node('p', 'source@1', {}, { dataset: 'registry.person' }),
    node('h', 'source@1', {}, { dataset: 'registry.household' }),
    node('j', 'join@1', { left: 'p', right: 'h' }, { leftKey: 'household_id', rightKey: 'household_id', columns: [{ column: 'created_on', as: 'household_created_on' }] }),
    node('d', 'derive@1', { rows: 'j' }, { columns: [{ name: 'years', expr: 'year(household_created_on)' }, { name: 'old', expr: "CASE WHEN years < 2000 THEN 'old' ELSE 'new' END" }] }),
    node('a', 'aggregate@1', { rows: 'd' }, { groupBy: ['district_code', 'old'], measures: [{ kind: 'count_persons' }] }),
    out('o', 'a'),
  ] },
  'wages': { specVersion: 1, name: 'wages by district', nodes: [
    node('e', 'source@1', {}, { dataset: 'social.employment' }),
    node('f', 'filter@1', { rows: 'e' }, { condition: 'end_date IS NULL AND monthly_wage BETWEEN 0 AND 1000000' }),
    node('a', 'aggregate@1', { rows: 'f' }, { groupBy: ['work_district_code'], measures: [{ kind: 'sum', column: 'monthly_wage' }, { kind: 'mean', column: 'monthly_wage', name: 'mean_wage' }], subtotals: 'margins' }),
    out('o', 'a'),
  ] },
  'cross-domain': { specVersion: 1, name: 'persons × employment (two domains)', nodes: [
    node('p', 'source@1', {}, { dataset: 'registry.person' }),
    node('e', 'source@1', {}, { dataset: 'social.employment' }),
    node('j', 'join@1', { left: 'p', right: 'e' }, { type: 'semi', leftKey: 'id_number', rightKey: 'id_number' }),
    node('g', 'geo-rollup@1', { rows: 'j' }, { depth: 'street', by: ['sex'] }),
    out('o', 'g'),
  ] },
  'tenancy-anti': { specVersion: 1, name: 'houses without tenancy', nodes: [
    node('h', 'source@1', {}, { dataset: 'housing.rental_house' }),
    node('t', 'source@1', {}, { dataset: 'housing.tenancy' }),
    node('j', 'join@1', { left: 'h', right: 't' }, { type: 'anti', leftKey: 'house_id', rightKey: 'house_id' }),
    node('a', 'aggregate@1', { rows: 'j' }, { groupBy: ['district_code'], measures: [{ kind: 'count_persons' }, { kind: 'sum', column: 'rooms' }] }),
    out('o', 'a'),
  ] },
};

export const BASES: Readonly<Record<string, Obj>> = { ...EXAMPLES, ...EXTRA };

export const OPERATOR_REFS: readonly string[] = OPERATORS.map((o) => `${o.id}@${o.version}`);
const DATASET_IDS = CATALOG.map((d) => d.id);
const COLUMN_NAMES = [...new Set(CATALOG.flatMap((d) => d.columns.map((c) => c.name)))];
const TAG_IDS = TAG_LIBRARY.tags.map((t) => t.id);
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_FRAGMENTS, '', ' ', 'a'.repeat(300), '\u0000', '\ud800', 'x\udc00y', 'persons', 'out', 'rows', 'table'),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
/** JSON values: random, hostile strings, numbers at the edges. */
export const jsonValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom<Json>(0, -1, 1e308, -1e308, 2 ** 53, 0.5, true, false, null, [], {}, [null], { '': '' }, '1', 'true', 'null') },
);

const nodeIdLike: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/),
  fc.constantFrom('persons', 'active', 'bands', 'rollup', 'out', 'p', 'a', 'j', 'o', 'x'.repeat(64), 'x'.repeat(65), '1abc', 'a.b', 'a b', ''),
  hostileString,
);
const portName = fc.constantFrom('rows', 'table', 'left', 'right', 'a', 'b', 'Rows', 'rows2', '', '__proto__', 'x'.repeat(40));

/** Expressions over the columns of a dataset the examples read (mostly registry.person); sloppy ones often fail to check. */
const expressionOf = (sloppy: boolean, maxDepth: number): fc.Arbitrary<string> => fc.oneof(
  ...['registry.person', 'registry.person', 'registry.person', 'registry.household', 'social.employment', 'housing.rental_house'].map((id) => {
    const ds = CATALOG.find((d) => d.id === id);
    if (!ds) throw new Error(id);
    const a = exprArbitraries({ columns: columnsOf(ds), maxDepth, sloppy });
    return fc.oneof(a.condition, a.condition, a.any).map((x) => x.src);
  }),
);
const expression = fc.oneof(expressionOf(true, 3), expressionOf(false, 3));

export type Mutation =
  | { readonly kind: 'drop'; readonly i: number }
  | { readonly kind: 'duplicate'; readonly i: number; readonly id?: string }
  | { readonly kind: 'rename'; readonly i: number; readonly id: string; readonly fixRefs: boolean }
  | { readonly kind: 'rewire'; readonly i: number; readonly port: string; readonly target: number | string; readonly targetPort?: string }
  | { readonly kind: 'op'; readonly i: number; readonly op: string }
  | { readonly kind: 'param'; readonly i: number; readonly key: string; readonly value: Json }
  | { readonly kind: 'dropParam'; readonly i: number; readonly key: number }
  | { readonly kind: 'params'; readonly i: number; readonly value: Json }
  | { readonly kind: 'field'; readonly i: number; readonly key: string; readonly value: Json }
  | { readonly kind: 'top'; readonly key: string; readonly value: Json }
  | { readonly kind: 'huge'; readonly i: number; readonly key: string; readonly n: number }
  | { readonly kind: 'manyNodes'; readonly n: number }
  | { readonly kind: 'deep'; readonly i: number; readonly depth: number; readonly arrays: boolean }
  | { readonly kind: 'proto'; readonly where: 'top' | 'node' | 'params' | 'inputs' | 'measure'; readonly i: number; readonly key: string; readonly value: Json }
  | { readonly kind: 'expr'; readonly i: number; readonly src: string }
  | { readonly kind: 'column'; readonly i: number; readonly name: string }
  | { readonly kind: 'dataset'; readonly i: number; readonly dataset: string }
  | { readonly kind: 'tags'; readonly i: number; readonly tags: readonly string[] }
  | { readonly kind: 'measures'; readonly i: number; readonly measures: Json }
  | { readonly kind: 'join'; readonly i: number; readonly j: number; readonly leftKey: string; readonly rightKey: string; readonly type: string }
  | { readonly kind: 'union'; readonly i: number; readonly j: number }
  | { readonly kind: 'raw'; readonly value: Json };

const columnName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...COLUMN_NAMES, 'age_band', 'tag', 'persons', 'old', 'years') }, { weight: 1, arbitrary: hostileString });
const measure: fc.Arbitrary<Json> = fc.record({
  kind: fc.constantFrom('count_persons', 'count_distinct', 'sum', 'mean', 'count', 'median'),
  column: fc.option(columnName, { nil: undefined }),
  name: fc.option(fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), hostileString), { nil: undefined }),
}, { requiredKeys: ['kind'] }) as fc.Arbitrary<Json>;

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('drop' as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), i: fc.nat(), id: fc.option(nodeIdLike, { nil: undefined }) }, { requiredKeys: ['kind', 'i'] }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), i: fc.nat(), id: nodeIdLike, fixRefs: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rewire' as const), i: fc.nat(), port: portName, target: fc.oneof(fc.nat(), nodeIdLike), targetPort: fc.option(portName, { nil: undefined }) }, { requiredKeys: ['kind', 'i', 'port', 'target'] }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('op' as const), i: fc.nat(), op: fc.oneof(fc.constantFrom(...OPERATOR_REFS), fc.constantFrom('filter@2', 'Filter@1', 'filter', 'filter@0', 'filter@01', 'source@1 ', 'sql@1', 'x@9999', '@1', ''), hostileString) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('param' as const), i: fc.nat(), key: fc.oneof(fc.constantFrom('dataset', 'condition', 'columns', 'groupBy', 'by', 'measures', 'subtotals', 'depth', 'prefix', 'tags', 'title', 'chart', 'type', 'leftKey', 'rightKey'), hostileString), value: jsonValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropParam' as const), i: fc.nat(), key: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('params' as const), i: fc.nat(), value: jsonValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('field' as const), i: fc.nat(), key: fc.constantFrom('id', 'op', 'inputs', 'params', 'label', 'position', 'extra', 'Id'), value: jsonValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('top' as const), key: fc.constantFrom('specVersion', 'name', 'description', 'nodes', 'edges', 'version'), value: jsonValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), i: fc.nat(), key: fc.constantFrom('groupBy', 'by', 'measures', 'tags', 'columns', 'condition', 'title'), n: fc.oneof(fc.integer({ min: 5, max: 5_000 }), fc.constant(300_000)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('manyNodes' as const), n: fc.integer({ min: 190, max: 260 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deep' as const), i: fc.nat(), depth: fc.integer({ min: 20, max: 200 }), arrays: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('proto' as const), where: fc.constantFrom('top' as const, 'node' as const, 'params' as const, 'inputs' as const, 'measure' as const), i: fc.nat(), key: fc.constantFrom(...PROTO_KEYS), value: jsonValue }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('expr' as const), i: fc.nat(), src: expression }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('column' as const), i: fc.nat(), name: columnName }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dataset' as const), i: fc.nat(), dataset: fc.oneof(fc.constantFrom(...DATASET_IDS), hostileString) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tags' as const), i: fc.nat(), tags: fc.array(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...TAG_IDS) }, { weight: 1, arbitrary: hostileString }), { maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('measures' as const), i: fc.nat(), measures: fc.array(measure, { maxLength: 9 }) as fc.Arbitrary<Json> }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('join' as const), i: fc.nat(), j: fc.nat(), leftKey: columnName, rightKey: columnName, type: fc.constantFrom('inner', 'left', 'semi', 'anti', 'outer') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('union' as const), i: fc.nat(), j: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), value: jsonValue }) },
);

// ---------------------------------------------------------------- applying mutations

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Sets an own property, even `__proto__` (as JSON.parse does), never the prototype. */
const setOwn = (o: Obj, key: string, value: Json) => { Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true }); };
const nodesOf = (doc: Json): Json[] | undefined => (isObj(doc) && Array.isArray(doc['nodes']) ? doc['nodes'] : undefined);
const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
const idOf = (n: Json | undefined): string => (isObj(n) && typeof n['id'] === 'string' ? n['id'] : '');
const paramsOf = (n: Json | undefined): Obj | undefined => {
  if (!isObj(n)) return undefined;
  if (!isObj(n['params'])) n['params'] = {};
  return n['params'] as Obj;
};
const inputsOf = (n: Json | undefined): Obj | undefined => {
  if (!isObj(n)) return undefined;
  if (!isObj(n['inputs'])) n['inputs'] = {};
  return n['inputs'] as Obj;
};

/** Applies one mutation to `doc` (in place where it can) and returns the document. */
export function mutate(doc: Json, m: Mutation): Json {
  if (m.kind === 'raw') return m.value;
  if (m.kind === 'top') { if (isObj(doc)) setOwn(doc, m.key, m.value); return doc; }
  if (m.kind === 'proto' && m.where === 'top') { if (isObj(doc)) setOwn(doc, m.key, m.value); return doc; }
  const nodes = nodesOf(doc);
  if (!nodes) return doc;
  if (m.kind === 'manyNodes') {
    const first = nodes[0];
    for (let k = nodes.length; k < m.n; k++) nodes.push({ ...(isObj(first) ? JSON.parse(JSON.stringify(first)) as Obj : {}), id: `n${k}` });
    return doc;
  }
  const index = nodes.length ? m.i % nodes.length : 0;
  const n = nodes[index];
  switch (m.kind) {
    case 'drop': nodes.splice(index, 1); break;
    case 'duplicate': if (isObj(n)) nodes.push({ ...(JSON.parse(JSON.stringify(n)) as Obj), ...(m.id !== undefined ? { id: m.id } : {}) }); break;
    case 'rename': {
      if (!isObj(n)) break;
      const old = idOf(n);
      n['id'] = m.id;
      if (m.fixRefs) {
        for (const x of nodes) {
          const ins = isObj(x) ? x['inputs'] : undefined;
          if (!isObj(ins)) continue;
          for (const [k, v] of Object.entries(ins)) if (typeof v === 'string' && (v === old || v.startsWith(`${old}.`))) ins[k] = m.id + v.slice(old.length);
        }
      }
      break;
    }
    case 'rewire': {
      const ins = inputsOf(n);
      if (!ins) break;
      const target = typeof m.target === 'number' ? idOf(pick(nodes, m.target)) : m.target;
      setOwn(ins, m.port, m.targetPort !== undefined ? `${target}.${m.targetPort}` : target);
      break;
    }
    case 'op': if (isObj(n)) n['op'] = m.op; break;
    case 'param': { const p = paramsOf(n); if (p) setOwn(p, m.key, m.value); break; }
    case 'dropParam': { const p = paramsOf(n); const k = p ? pick(Object.keys(p), m.key) : undefined; if (p && k !== undefined) Reflect.deleteProperty(p, k); break; }
    case 'params': if (isObj(n)) n['params'] = m.value; break;
    case 'field': if (isObj(n)) setOwn(n, m.key, m.value); break;
    case 'huge': {
      const p = paramsOf(n);
      if (!p) break;
      // Strings of any length; arrays up to 5 000 items (a 300 000-item array would only repeat the size check).
      setOwn(p, m.key, m.key === 'condition' || m.key === 'title' ? 'x'.repeat(m.n) : Array.from({ length: Math.min(m.n, 5_000) }, (_, k) => (m.key === 'measures' ? { kind: 'count_persons', name: `m${k}` } : `c${k % 50}`)));
      break;
    }
    case 'deep': {
      const p = paramsOf(n);
      if (!p) break;
      let v: Json = 'bottom';
      for (let k = 0; k < m.depth; k++) v = m.arrays ? [v] : { x: v };
      p['nested'] = v;
      break;
    }
    case 'proto': {
      const target = m.where === 'node' ? (isObj(n) ? n : undefined) : m.where === 'params' ? paramsOf(n) : m.where === 'inputs' ? inputsOf(n) : undefined;
      if (m.where === 'measure') {
        const p = paramsOf(n);
        const ms = p?.['measures'];
        const first = Array.isArray(ms) ? ms[0] : undefined;
        if (isObj(first)) setOwn(first, m.key, m.value);
      } else if (target) setOwn(target, m.key, m.value);
      break;
    }
    case 'expr': {
      if (!isObj(n)) break;
      const p = paramsOf(n);
      if (!p) break;
      if (n['op'] === 'derive@1') {
        const cols = Array.isArray(p['columns']) ? p['columns'] : (p['columns'] = []);
        const c = cols[m.i % Math.max(1, cols.length)];
        if (isObj(c) && m.i % 3 !== 0) c['expr'] = m.src;
        else cols.push({ name: `c${cols.length}_${m.i % 100}`, expr: m.src });
      } else if (n['op'] === 'filter@1') {
        p['condition'] = m.src;
      } else {
        // Insert a filter after this node, in front of whatever read it.
        const id = `f${index}_${nodes.length}`;
        const from = idOf(n);
        for (const x of nodes) {
          const ins = isObj(x) ? x['inputs'] : undefined;
          if (isObj(ins)) for (const [k, v] of Object.entries(ins)) if (v === from) ins[k] = id;
        }
        nodes.push({ id, op: 'filter@1', inputs: { rows: from }, params: { condition: m.src } });
      }
      break;
    }
    case 'column': {
      const p = paramsOf(n);
      if (!p) break;
      for (const key of ['groupBy', 'by'] as const) {
        const xs = p[key];
        if (Array.isArray(xs)) { if (xs.length && m.i % 2) xs[m.i % xs.length] = m.name; else xs.push(m.name); }
      }
      const ms = p['measures'];
      if (Array.isArray(ms)) { const x = ms[m.i % Math.max(1, ms.length)]; if (isObj(x)) x['column'] = m.name; }
      if (typeof p['leftKey'] === 'string') p[m.i % 2 ? 'leftKey' : 'rightKey'] = m.name;
      const cs = p['columns'];
      if (Array.isArray(cs)) { const x = cs[m.i % Math.max(1, cs.length)]; if (isObj(x)) x[typeof x['column'] === 'string' ? 'column' : 'name'] = m.name; }
      break;
    }
    case 'dataset': { const p = paramsOf(n); if (p && isObj(n) && n['op'] === 'source@1') p['dataset'] = m.dataset; break; }
    case 'tags': { const p = paramsOf(n); if (p && isObj(n) && n['op'] === 'tag@1') p['tags'] = [...m.tags]; break; }
    case 'measures': { const p = paramsOf(n); if (p && 'measures' in p) p['measures'] = m.measures; break; }
    case 'join': case 'union': {
      const left = idOf(n);
      const right = idOf(pick(nodes, m.j));
      const id = `${m.kind}${index}_${nodes.length}`;
      for (const x of nodes) {
        const ins = isObj(x) ? x['inputs'] : undefined;
        if (isObj(ins) && x !== n) for (const [k, v] of Object.entries(ins)) if (v === left) ins[k] = id;
      }
      nodes.push(m.kind === 'join'
        ? { id, op: 'join@1', inputs: { left, right }, params: { type: m.type, leftKey: m.leftKey, rightKey: m.rightKey } }
        : { id, op: 'union@1', inputs: { a: left, b: right }, params: {} });
      break;
    }
  }
  return doc;
}

/** A base document with 1–4 mutations applied; `doc` is what the API would see after JSON.parse. */
export const mutatedPipeline: fc.Arbitrary<{ base: string; mutations: readonly Mutation[]; doc: unknown }> =
  fc.tuple(fc.constantFrom(...Object.keys(BASES)), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([base, mutations]) => {
      let doc = JSON.parse(JSON.stringify(BASES[base] ?? null)) as Json;
      for (const m of mutations) doc = mutate(doc, m);
      return { base, mutations, doc: JSON.parse(JSON.stringify(doc)) as unknown };
    });

/** Where an expression can go in a base document, and the columns it reads there (as the validator infers them). */
interface ExpressionSite { readonly base: string; readonly nodeId: string; readonly how: 'condition' | 'derive' | 'filter-after'; readonly columns: readonly ColumnInfo[] }

function expressionSites(): ExpressionSite[] {
  const sites: ExpressionSite[] = [];
  for (const [base, doc] of Object.entries(BASES)) {
    const v = validatePipeline(doc);
    if (!v.ok) throw new Error(`base ${base} is invalid: ${v.errors[0]?.message ?? ''}`);
    for (const n of v.pipeline.nodes) {
      const rowsOf = (id: string | undefined) => { const o = id ? v.pipeline.byId.get(id)?.outputs['rows'] : undefined; return o?.kind === 'rows' ? o.columns : undefined; };
      const input = rowsOf(n.inputs['rows']?.node);
      const output = rowsOf(n.node.id);
      if (n.node.op === 'filter@1' && input) sites.push({ base, nodeId: n.node.id, how: 'condition', columns: input });
      if (n.node.op === 'derive@1' && output) sites.push({ base, nodeId: n.node.id, how: 'derive', columns: output });
      if (output) sites.push({ base, nodeId: n.node.id, how: 'filter-after', columns: output });
    }
  }
  return sites;
}

/** Puts expression `src` at `site` of a copy of its base document. */
function withExpression(site: ExpressionSite, src: string, k: number): Json {
  const doc = JSON.parse(JSON.stringify(BASES[site.base] ?? null)) as Json;
  const nodes = nodesOf(doc) ?? [];
  const n = nodes.find((x) => idOf(x) === site.nodeId);
  const p = paramsOf(n);
  if (!p) return doc;
  if (site.how === 'condition') p['condition'] = src;
  else if (site.how === 'derive') (Array.isArray(p['columns']) ? p['columns'] : (p['columns'] = [])).push({ name: `fuzz_${k}`, expr: src });
  else {
    const id = `fuzz_${k}`;
    for (const x of nodes) {
      const ins = isObj(x) ? x['inputs'] : undefined;
      if (isObj(ins)) for (const [port, ref] of Object.entries(ins)) if (ref === site.nodeId) ins[port] = id;
    }
    nodes.push({ id, op: 'filter@1', inputs: { rows: site.nodeId }, params: { condition: src } });
  }
  return doc;
}

/**
 * The base documents with a generated expression over the real inferred input of a filter, a new
 * derived column, or a new filter after any node giving rows: mostly valid, so planning and the
 * compiled SQL get exercised with hostile literals.
 */
export const reExpressedPipeline: fc.Arbitrary<{ site: string; src: string; doc: unknown }> = fc.oneof(...expressionSites().map((site) => {
  const a = exprArbitraries({ columns: site.columns, maxDepth: 3, sloppy: false });
  return fc.tuple(site.how === 'derive' ? fc.oneof(a.any, a.condition) : a.condition, fc.nat({ max: 99 }))
    .map(([e, k]) => ({ site: `${site.base} ${site.how} ${site.nodeId}`, src: e.src, doc: JSON.parse(JSON.stringify(withExpression(site, e.src, k))) as unknown }));
}));
