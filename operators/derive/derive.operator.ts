import { z } from 'zod';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { columnsOf } from '../../sandbox/expr/ast.ts';
import { rel } from '../../sandbox/ir/rel.ts';
import { withColumnOrigins } from '../../sandbox/ir/origin.ts';
import type { RelColumn } from '../../sandbox/pipeline/relation.ts';
import { defineOperator } from '../define-operator.ts';
import { checkParam, columnNameRegex, rowsInput } from '../operator-helpers.ts';

const params = z.object({
  columns: z.array(z.object({
    name: z.string().regex(columnNameRegex, 'lower-case letters, digits and _; starts with a letter; at most 40'),
    expr: z.string().min(1).max(8000),
  }).strict()).min(1).max(20),
}).strict();

export const derive = defineOperator({
  id: 'derive', version: 1,
  label: { zh: '计算新列', en: 'Derive columns' },
  help: {
    zh: '用表达式计算新列，如 age_band = bucket(age(birth_date), 0, 15, 25, 45, 60, 80)。新列的密级不低于所用的列；由标识信息派生的列仍是标识信息。',
    en: 'Compute new columns with expressions, e.g. age_band = bucket(age(birth_date), 0, 15, 25, 45, 60, 80). A new column is at least as sensitive as the columns it uses; anything derived from an identifier stays one.',
  },
  category: 'transform',
  params,
  ui: {},
  inputs: { rows: 'rows' },
  outputs: { rows: 'rows' },
  policyAction: 'transform',
  infer: ({ nodeId, params: p, inputs }) => {
    let current = rowsInput(nodeId, inputs, 'rows');
    p.columns.forEach((c, i) => {
      if (current.columns.some((x) => x.name === c.name)) {
        throw new LabError('LAB-E064', { detail: t(`列名 ${c.name} 已存在`, `a column named ${c.name} already exists`), nodeId, field: `params.columns.${i}.name` });
      }
      const checked = checkParam(nodeId, `params.columns.${i}.expr`, c.expr, current);
      const info = checked.info;
      // Computed from a multi-valued column (a tag), a column is multi-valued too.
      const multiValued = columnsOf(checked.expr).some((name) => current.columns.find((x) => x.name === name)?.multiValued === true);
      // Computed only from columns with one value per person, it has one value per person.
      const perUnit = columnsOf(checked.expr).every((name) => current.columns.find((x) => x.name === name)?.perUnit === true);
      const col: RelColumn = { name: c.name, type: info.type === 'null' ? 'text' : info.type, semantic: info.semantic, level: info.level, identifierOrigins: info.identifierOrigins, nullable: true, ...(multiValued ? { multiValued } : {}), ...(perUnit && !multiValued ? { perUnit } : {}) };
      current = { ...current, columns: [...current.columns, col] };
    });
    return { rows: current };
  },
  plan: ({ nodeId, params: p, inputs, inferredInputs }) => {
    let current = rowsInput(nodeId, inferredInputs, 'rows');
    const r = inputs['rows'];
    if (!r) throw new Error('derive planned without input');
    const cols = p.columns.map((c, i) => {
      const expr = checkParam(nodeId, `params.columns.${i}.expr`, c.expr, current);
      current = { ...current, columns: [...current.columns, { name: c.name, type: expr.info.type === 'null' ? 'text' : expr.info.type, semantic: expr.info.semantic, level: expr.info.level, identifierOrigins: expr.info.identifierOrigins, nullable: true }] };
      return { name: c.name, expr };
    });
    return { rows: withColumnOrigins(rel.derive(r, cols), p.columns.map((_, i) => ({ nodeId, field: `params.columns.${i}.expr` }))) };
  },
});
