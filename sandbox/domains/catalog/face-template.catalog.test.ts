import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePipeline } from '../../pipeline/validate.ts';
import { CATALOG } from './index.ts';
import { isIdentifier } from './types.ts';

/** Face templates (S5) in the catalog: bytea, L4 identifiers — never a group key, never an output (I3). */
const s1 = JSON.parse(readFileSync(new URL('../../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as {
  nodes: { id: string; op: string; inputs?: Record<string, string>; params: Record<string, unknown> }[];
};

describe('face templates in the catalog', () => {
  const templates = CATALOG.flatMap((d) => d.columns.filter((c) => c.semantic === 'face_template').map((c) => ({ dataset: d.id, ...c })));

  it('are bytea L4 identifier columns of the reference photos and the grid visits', () => {
    expect(templates.map((c) => `${c.dataset}.${c.name}`).sort()).toEqual(['grid.visit.face_template', 'registry.reference_photo.template']);
    for (const c of templates) {
      expect(c.type).toBe('bytea');
      expect(c.level).toBe('L4');
      expect(isIdentifier(c.semantic)).toBe(true);
    }
  });

  // (reference_photo has no geography for a roll-up; the rule is the same for every identifier column)
  it.each([
    ['grid.visit', 'face_template'],
  ])('%s.%s cannot be a group key (LAB-E063)', (dataset, column) => {
    const doc = structuredClone(s1);
    doc.nodes[0]!.params = { dataset };
    doc.nodes[1]!.params = { condition: 'true' };
    doc.nodes[2]!.params = { columns: [{ name: 'x', expr: '1' }] };
    doc.nodes[3]!.params = { depth: 'district', by: [column], measures: [{ kind: 'count_persons' }] };
    const v = validatePipeline(doc);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.map((e) => e.code)).toContain('LAB-E063');
  });
});
