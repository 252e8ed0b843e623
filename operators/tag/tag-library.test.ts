import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../sandbox/compile/expr.compile.ts';
import { ident } from '../../sandbox/compile/identifiers.ts';
import { SqlParams } from '../../sandbox/compile/sql-params.ts';
import { findDataset } from '../../sandbox/domains/catalog/index.ts';
import { S2_TAGS } from '../../sandbox/domains/generator/ground-truth.ts';
import { checkExpression } from '../../sandbox/expr/check.ts';
import { parseExpression } from '../../sandbox/expr/parser.ts';
import { columnsOfDataset } from '../operator-helpers.ts';
import { TAG_LIBRARY, findTag, parseTagLibrary } from './tag-library.ts';

const ACTIVE_AT_AS_OF = 'since <= as_of() AND (until IS NULL OR until > as_of())';

/** The S2 definitions of docs/data.md ("S2 — key groups per community"), pinned: the ground truth implements exactly these. */
const S2_DEFINITIONS: Record<(typeof S2_TAGS)[number], { dataset: string; rule: string }> = {
  elderly_alone: { dataset: 'civil.elderly_alone', rule: 'TRUE' },
  childless_elderly: { dataset: 'civil.elderly_alone', rule: "kind = 'childless'" },
  pregnant: { dataset: 'health.pregnancy', rule: "status = 'ongoing'" },
  chronic_any: { dataset: 'health.chronic_condition', rule: 'TRUE' },
  hypertension: { dataset: 'health.chronic_condition', rule: "condition = 'hypertension'" },
  diabetes: { dataset: 'health.chronic_condition', rule: "condition = 'diabetes'" },
  severe_mental: { dataset: 'health.chronic_condition', rule: "condition = 'severe_mental'" },
  disabled: { dataset: 'civil.disability', rule: 'TRUE' },
  severe_disability: { dataset: 'civil.disability', rule: "grade IN ('1', '2')" },
  dibao: { dataset: 'civil.subsidy', rule: `subsidy_type = 'dibao' AND ${ACTIVE_AT_AS_OF}` },
  tekun: { dataset: 'civil.subsidy', rule: `subsidy_type = 'tekun' AND ${ACTIVE_AT_AS_OF}` },
  floating: { dataset: 'registry.person', rule: "status = 'active' AND household_type = 'floating'" },
  elderly_80: { dataset: 'registry.person', rule: "status = 'active' AND age(birth_date) >= 80" },
};

describe('the tag library (operators/tag/tag-library.json)', () => {
  it('has at least 15 tags in at least 6 categories, every category labelled in both languages and used', () => {
    expect(TAG_LIBRARY.tags.length).toBeGreaterThanOrEqual(15);
    const used = new Set(TAG_LIBRARY.tags.map((t) => t.category));
    expect(TAG_LIBRARY.categories.length).toBeGreaterThanOrEqual(6);
    for (const c of TAG_LIBRARY.categories) {
      expect(used.has(c.id), c.id).toBe(true);
      expect(c.label.zh).not.toBe(c.label.en);
    }
  });

  it('holds every S2 tag with exactly the definition of docs/data.md', () => {
    for (const id of S2_TAGS) {
      const tag = findTag(id);
      expect(tag, id).toBeDefined();
      expect({ dataset: tag?.dataset, rule: tag?.rule }, id).toEqual(S2_DEFINITIONS[id]);
    }
  });

  it.each(TAG_LIBRARY.tags.map((t) => [t.id, t] as const))('%s: its rule type-checks as a condition on its dataset and compiles to parameterised SQL', (_id, tag) => {
    const ds = findDataset(tag.dataset);
    expect(ds, `${tag.id}: dataset ${tag.dataset}`).toBeDefined();
    if (!ds) return;
    const checked = checkExpression(parseExpression(tag.rule), columnsOfDataset(ds));
    expect(checked.info.type, `${tag.id}: ${tag.rule}`).toBe('boolean');
    expect(tag.label.zh.length * tag.label.en.length).toBeGreaterThan(0);
    const params = new SqlParams();
    const sql = compileExpression(checked, { params, column: (c) => `s.${ident(c)}`, asOf: '2026-06-30' });
    // Every literal of the rule is a bind parameter: no quoted text of the rule reaches the SQL.
    for (const m of tag.rule.matchAll(/'([^']*)'/g)) expect(sql).not.toContain(`'${m[1] ?? ''}'`);
  });

  it('refuses a broken library document with LAB-E083 naming the place', () => {
    const base = { version: 1, categories: [{ id: 'elderly', label: { zh: '老年人', en: 'Elderly' } }] };
    const tag = { id: 'x', category: 'elderly', dataset: 'civil.elderly_alone', level: 'L3', label: { zh: '甲', en: 'X' }, rule: 'TRUE' };
    expect(() => parseTagLibrary({ ...base, tags: [tag, tag] })).toThrow(expect.objectContaining({ code: 'LAB-E083', field: 'tags.1.id' }));
    expect(() => parseTagLibrary({ ...base, tags: [{ ...tag, category: 'pets' }] })).toThrow(expect.objectContaining({ code: 'LAB-E083', field: 'tags.0.category' }));
    expect(() => parseTagLibrary({ ...base, tags: [{ ...tag, id: 'Bad-Id' }] })).toThrow(expect.objectContaining({ code: 'LAB-E083', field: 'tags.0.id' }));
    expect(() => parseTagLibrary({ ...base, tags: [{ ...tag, sql: 'DROP TABLE person' }] })).toThrow(expect.objectContaining({ code: 'LAB-E083' }));
  });
});
