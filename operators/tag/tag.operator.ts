import { z } from 'zod';
import { maxClassification } from '../../sandbox/domains/catalog/types.ts';
import { LabError, isLabError, t } from '../../sandbox/errors/index.ts';
import { checkExpression } from '../../sandbox/expr/check.ts';
import { parseExpression } from '../../sandbox/expr/parser.ts';
import { rel, type TagRule } from '../../sandbox/ir/rel.ts';
import type { RelColumn, RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { MAX_KEY_LEVELS } from '../aggregate/group-keys.ts';
import { defineOperator } from '../define-operator.ts';
import { rowsInput } from '../operator-helpers.ts';
import { findTag, tagsForDatasets } from './tag-library.ts';

/** The column the tag operator adds. */
export const TAG_COLUMN = 'tag';

const params = z.object({
  /** Tag ids from the tag library (operators/tag/tag-library.json); every one must apply to the input's dataset. */
  tags: z.array(z.string().min(1).max(64)).min(1).max(MAX_KEY_LEVELS),
}).strict();

/**
 * Resolves the selected tags against the input: each must exist, apply to a dataset the input
 * comes from, and its rule must type-check on the input's columns. Gives the rules (for the plan)
 * and the output relation: the input's columns plus the categorical `tag` column.
 *
 * Classification: the tag column is as sensitive as the most sensitive of the tags' declared levels
 * and of the columns their rules read; it is never an identifier, even when a rule reads one (I3:
 * identifiers may be used in tags), because its values are tag ids from the library, nothing else.
 * A row can carry several tags, so the output has several rows per unit: `unit.unique` is dropped,
 * counts of persons become distinct counts, and the column is multi-valued (statistics keep it in
 * every grouping set: subtotals within a tag, never across tags).
 */
function resolveTags(nodeId: string, input: RowsRelation, ids: readonly string[]): { rules: TagRule[]; output: RowsRelation } {
  if (input.columns.some((c) => c.name === TAG_COLUMN)) {
    throw new LabError('LAB-E064', {
      detail: t(`输入中已有列 ${TAG_COLUMN}（已打过标签）；请在一个标签节点中选择全部标签`, `the input already has a column ${TAG_COLUMN} (it is tagged already); pick all tags in one tag node`),
      nodeId, field: 'params.tags',
    });
  }
  const seen = new Set<string>();
  const resolved = ids.map((id, i) => {
    const field = `params.tags.${i}`;
    if (seen.has(id)) throw new LabError('LAB-E064', { detail: t(`标签 ${id} 重复`, `tag ${id} is selected twice`), nodeId, field });
    seen.add(id);
    const tag = findTag(id);
    if (!tag) {
      const usable = tagsForDatasets(input.datasets).map((x) => x.id).slice(0, 12);
      throw new LabError('LAB-E080', {
        detail: t(`标签库中没有标签 ${id}`, `the tag library has no tag ${id}`),
        ...(usable.length ? { hint: t(`该输入可用的标签：${usable.join('、')}`, `tags for this input: ${usable.join(', ')}`) } : {}),
        nodeId, field,
      });
    }
    if (!input.datasets.includes(tag.dataset)) {
      throw new LabError('LAB-E081', {
        detail: t(`标签 ${id}（${tag.label.zh}）用于数据集 ${tag.dataset}，而输入来自 ${input.datasets.join('、')}`,
          `tag ${id} (${tag.label.en}) tags rows of ${tag.dataset}, but the input comes from ${input.datasets.join(', ')}`),
        hint: t(`请把该标签放在数据集 ${tag.dataset} 的分支上`, `Put this tag on a branch reading ${tag.dataset}`),
        nodeId, field,
      });
    }
    let checked;
    try {
      checked = checkExpression(parseExpression(tag.rule), input.columns);
    } catch (e) {
      if (!isLabError(e)) throw e;
      throw new LabError('LAB-E082', {
        detail: t(`标签 ${id} 的规则 ${tag.rule}：${e.messageIn('zh-CN')}`, `rule of tag ${id}, ${tag.rule}: ${e.messageIn('en')}`),
        hint: t('标签规则读取数据集的原始列；请把标签节点放在改名或去掉这些列的节点之前', 'Tag rules read the dataset’s own columns; place the tag node before nodes that rename or drop them'),
        nodeId, field,
      });
    }
    if (checked.info.type !== 'boolean') {
      throw new LabError('LAB-E082', { detail: t(`标签 ${id} 的规则不是真/假判断`, `the rule of tag ${id} is not a true/false condition`), nodeId, field });
    }
    return { tag, checked };
  });

  const column: RelColumn = {
    name: TAG_COLUMN, type: 'text', semantic: 'category',
    level: maxClassification(...resolved.flatMap((r) => [r.tag.level, r.checked.info.level])),
    identifierOrigins: [],
    label: { zh: '标签', en: 'Tag' },
    nullable: false,
    multiValued: true,
    values: Object.fromEntries(resolved.map((r) => [r.tag.id, r.tag.label])),
  };
  const oneRowPerUnit = input.unit.unique === true && resolved.length === 1;
  return {
    rules: resolved.map((r) => ({ id: r.tag.id, rule: r.checked })),
    output: {
      ...input,
      unit: { column: input.unit.column, kind: input.unit.kind, ...(oneRowPerUnit ? { unique: true } : {}) },
      columns: [...input.columns, column],
    },
  };
}

export const tag = defineOperator({
  id: 'tag', version: 1,
  label: { zh: '人口标签', en: 'Tag' },
  help: {
    zh: '按标签库中的规则给每行打标签，如 孤寡老人、孕妇、高血压患者、低保对象。输出在原有列之外增加“标签”列；一行符合几个标签就输出几行，不符合任何所选标签的行被去掉。之后按“社区 × 标签”分组统计人数，即得各社区重点人群人数（同一人只计一次）；小计只在同一标签内汇总，不跨标签相加。标签规则可以使用身份号码等标识信息，但标签列只含标签名称。',
    en: 'Tag rows by the rules of the tag library, e.g. childless elderly, pregnant, hypertension, dibao. The output has the input’s columns plus a “tag” column: a row matching several of the chosen tags appears once per tag, a row matching none is dropped. Group by community × tag and count persons to get the key groups per community (each person counted once); subtotals stay within a tag, never across tags. Tag rules may read identifiers; the tag column holds only tag names.',
  },
  category: 'transform',
  params,
  ui: { tags: { widget: 'tags' } },
  inputs: { rows: 'rows' },
  outputs: { rows: 'rows' },
  policyAction: 'transform',
  infer: ({ nodeId, params: p, inputs }) => ({ rows: resolveTags(nodeId, rowsInput(nodeId, inputs, 'rows'), p.tags).output }),
  plan: ({ nodeId, params: p, inputs, inferredInputs }) => {
    const r = inputs['rows'];
    if (!r) throw new Error('tag planned without input');
    const { rules } = resolveTags(nodeId, rowsInput(nodeId, inferredInputs, 'rows'), p.tags);
    return { rows: rel.tag(r, TAG_COLUMN, rules) };
  },
});
