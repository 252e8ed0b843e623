import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseExpression } from '../../../sandbox/expr/index.ts';
import { CATALOG } from '../../../sandbox/domains/catalog/index.ts';
import type { CatalogDataset, GeoUnit, PipelineDocument } from '../../../workspace-ui/src/api/types.ts';
import { fromDocument, type Ports } from '../../../workspace-ui/src/editor/model.ts';
import { evaluate } from '../../../workspace-ui/src/preview/evaluate-expr.ts';
import { idCheckDigit, mockRows } from '../../../workspace-ui/src/preview/mock-rows.ts';
import { previewNode } from '../../../workspace-ui/src/preview/run-preview.ts';

/** The catalog as GET /api/catalog serves it (same shape, from the lab's own catalog). */
const catalog: CatalogDataset[] = CATALOG.map((d) => ({
  id: d.id, domain: d.domain, table: d.table, label: d.label, description: d.description, unit: { column: d.unit.column, kind: d.unit.kind },
  columns: d.columns.map((c) => ({ name: c.name, type: c.type, semantic: c.semantic, level: c.level, label: c.label, nullable: c.nullable ?? false, values: c.values ?? null, bounds: c.bounds ?? null, geoLevel: c.geoLevel ?? null })),
}));
const unit = (code: string, level: GeoUnit['level'], parentCode: string | null): GeoUnit => ({ code, level, parentCode, name: { zh: code, en: code }, urbanVillage: false });
const geography: GeoUnit[] = [
  unit('D1', 'district', null), unit('D2', 'district', null),
  unit('S1', 'street', 'D1'), unit('S2', 'street', 'D2'),
  unit('C1', 'community', 'S1'), unit('C2', 'community', 'S2'),
  unit('G1', 'grid', 'C1'), unit('G2', 'grid', 'C1'), unit('G3', 'grid', 'C2'),
];
const ctx = { geography, asOf: '2026-06-30' };
const ports = (op: string): Ports => {
  const id = op.split('@')[0];
  if (id === 'source') return { inputs: {}, outputs: { rows: 'rows' } };
  if (id === 'geo-rollup' || id === 'aggregate') return { inputs: { rows: 'rows' }, outputs: { table: 'table' } };
  if (id === 'output') return { inputs: { table: 'table' }, outputs: {} };
  if (id === 'join') return { inputs: { left: 'rows', right: 'rows' }, outputs: { rows: 'rows' } };
  return { inputs: { rows: 'rows' }, outputs: { rows: 'rows' } };
};
const example = (name: string) => fromDocument(JSON.parse(readFileSync(new URL(`../../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as PipelineDocument, ports);
const ev = (text: string, row: Record<string, string | number | boolean | null> = {}) => evaluate(parseExpression(text), row, '2026-06-30');

describe('the expression evaluator of the mock preview', () => {
  it('follows the language: bands, ages, ID functions, three-valued logic, CASE, IN', () => {
    expect(ev('bucket(x, 0, 15, 25, 45, 60, 80)', { x: 14 })).toBe('0-14');
    expect(ev('bucket(x, 0, 15, 25, 45, 60, 80)', { x: 80 })).toBe('80+');
    expect(ev('bucket(x, 10, 20)', { x: 3 })).toBeNull();
    expect(ev('age(d)', { d: '1990-07-01' })).toBe(35);
    expect(ev('age(d)', { d: '1990-06-30' })).toBe(36);
    const id = `44010619900701123${idCheckDigit('44010619900701123')}`;
    expect(ev('age_from_id(i)', { i: id })).toBe(35);
    expect(ev('sex_from_id(i)', { i: id })).toBe('M');
    expect(ev('birth_date_from_id(i)', { i: id })).toBe('1990-07-01');
    expect(ev('x = 1 AND y = 2', { x: null, y: 3 })).toBe(false);
    expect(ev('x = 1 OR y = 2', { x: null, y: 3 })).toBeNull();
    expect(ev("CASE WHEN x > 2 THEN 'big' ELSE 'small' END", { x: 3 })).toBe('big');
    expect(ev("s IN ('a', 'b')", { s: 'b' })).toBe(true);
    expect(ev('x BETWEEN 1 AND 3', { x: 4 })).toBe(false);
    expect(ev('x IS NULL', { x: null })).toBe(true);
    expect(ev("substr('广州市天河区', 4, 2)")).toBe('天河');
    expect(ev("add_months(d, 1)", { d: '2026-01-31' })).toBe('2026-02-28');
    expect(ev("months_between(a, b)", { a: '2026-01-31', b: '2026-03-30' })).toBe(1);
    expect(ev('coalesce(x, 7)', { x: null })).toBe(7);
  });
});

describe('mock rows and the preview of a node', () => {
  afterEach(() => { vi.unstubAllGlobals(); });

  it('mock rows follow the catalog: code lists, geography chains, valid ID numbers, same seed same rows', () => {
    const person = catalog.find((d) => d.id === 'registry.person');
    if (!person) throw new Error('no registry.person');
    const rows = mockRows(person, ctx, 100, 7);
    expect(rows).toHaveLength(100);
    expect(mockRows(person, ctx, 100, 7)).toEqual(rows);
    expect(mockRows(person, ctx, 100, 8)).not.toEqual(rows);
    const status = person.columns.find((c) => c.name === 'status');
    for (const r of rows) {
      expect(Object.keys(status?.values ?? {})).toContain(r['status']);
      const grid = geography.find((g) => g.code === r['grid_code']);
      const community = geography.find((g) => g.code === grid?.parentCode);
      expect(r['community_code']).toBe(community?.code);
      expect(r['district_code']).toBe(geography.find((g) => g.code === geography.find((s) => s.code === community?.parentCode)?.parentCode)?.code);
      const id = String(r['id_number']);
      expect(id).toMatch(/^\d{17}[\dX]$/);
      expect(idCheckDigit(id.slice(0, 17))).toBe(id.charAt(17));
    }
  });

  it('S1 up to each node: filter keeps only matching rows, derive adds the band, the roll-up adds up; nothing is fetched', async () => {
    const fetchSpy = vi.fn();
    vi.stubGlobal('fetch', fetchSpy);
    const doc = example('s1-population-rollup');
    const source = previewNode(doc, 'persons', catalog, ctx);
    const active = previewNode(doc, 'active', catalog, ctx);
    const bands = previewNode(doc, 'bands', catalog, ctx);
    const rollup = previewNode(doc, 'rollup', catalog, ctx);
    if (!source.ok || !active.ok || !bands.ok || !rollup.ok) throw new Error('preview failed');
    expect(source.rows).toHaveLength(200);
    expect(active.rows.length).toBeGreaterThan(0);
    expect(active.rows.length).toBeLessThan(200);
    expect(active.rows.every((r) => r['status'] === 'active')).toBe(true);
    expect(source.rows.filter((r) => r['status'] === 'active')).toHaveLength(active.rows.length);
    expect(bands.columns).toContain('age_band');
    for (const r of bands.rows) expect(r['age_band']).toBe(ev('bucket(age(birth_date), 0, 15, 25, 45, 60, 80)', { birth_date: r['birth_date'] ?? null }));
    expect(rollup.kind).toBe('table');
    expect(rollup.columns).toEqual(['district_code', 'street_code', 'community_code', 'grid_code', 'household_type', 'sex', 'age_band', 'persons']);
    expect(rollup.rows.reduce((s, r) => s + Number(r['persons']), 0)).toBe(active.rows.length);
    expect(previewNode(doc, 'out', catalog, ctx)).toEqual(rollup);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('says what it cannot preview: an operator without mock evaluation, a missing input, a broken expression', () => {
    const s4 = example('s4-suspected-unregistered');
    const join = s4.nodes.find((n) => !['source', 'filter', 'derive', 'aggregate', 'geo-rollup', 'output'].includes(n.op.split('@')[0] ?? ''));
    if (!join) throw new Error('S4 has no other operator');
    expect(previewNode(s4, join.id, catalog, ctx)).toMatchObject({ ok: false, reason: 'unsupported', op: join.op });
    const doc = example('s1-population-rollup');
    const cut = { ...doc, edges: doc.edges.filter((e) => e.target !== 'active') };
    expect(previewNode(cut, 'bands', catalog, ctx)).toMatchObject({ ok: false, reason: 'incomplete', nodeId: 'active' });
    const broken = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'active' ? { ...n, params: { condition: "status = 'active' AND" } } : n)) };
    expect(previewNode(broken, 'rollup', catalog, ctx)).toMatchObject({ ok: false, reason: 'expression', nodeId: 'active' });
  });
});
