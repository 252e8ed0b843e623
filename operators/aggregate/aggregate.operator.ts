import { z } from 'zod';
import { rel } from '../../sandbox/ir/rel.ts';
import { defineOperator } from '../define-operator.ts';
import { rowsInput } from '../operator-helpers.ts';
import { aggregateTable, resolveGroupKeys, setsKeepingMultiValued } from './group-keys.ts';
import { measureSchema, resolveMeasures } from './measures.ts';

export { MAX_KEY_LEVELS } from './group-keys.ts';

const params = z.object({
  groupBy: z.array(z.string().max(63)).max(4).default([]),
  measures: z.array(measureSchema).min(1).max(8),
  /** 'none': only the full grouping; 'margins': also every subtotal (a cube over the keys). */
  subtotals: z.enum(['none', 'margins']).default('none'),
}).strict();

export function cube(keys: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let mask = (1 << keys.length) - 1; mask >= 0; mask--) out.push(keys.filter((_, i) => mask & (1 << i)));
  return out;
}

export const aggregate = defineOperator({
  id: 'aggregate', version: 1,
  label: { zh: '分组统计', en: 'Group and count' },
  help: {
    zh: '按所选列分组统计人数、不同值个数、合计或平均。以人为统计单位；结果经披露审查（小数抑制、舍入）后才能发布。',
    en: 'Group by the chosen columns and count persons, distinct values, sums or means. The person is the unit; results are released only after the disclosure guard (small-cell suppression, rounding).',
  },
  category: 'statistics',
  params,
  ui: { groupBy: { widget: 'column', port: 'rows', multiple: true } },
  inputs: { rows: 'rows' },
  outputs: { table: 'table' },
  policyAction: 'aggregate',
  infer: ({ nodeId, params: p, inputs }) => {
    const input = rowsInput(nodeId, inputs, 'rows');
    const keys = resolveGroupKeys(nodeId, input, p.groupBy, 'params.groupBy', 'allow');
    const measures = resolveMeasures(nodeId, input, p.measures, 'params.measures');
    return {
      table: aggregateTable(input, keys, measures.table, setsKeepingMultiValued(input, p.groupBy, p.subtotals === 'margins' ? cube(p.groupBy) : [p.groupBy])),
    };
  },
  plan: ({ nodeId, params: p, inputs, inferredInputs }) => {
    const input = rowsInput(nodeId, inferredInputs, 'rows');
    const r = inputs['rows'];
    if (!r) throw new Error('aggregate planned without input');
    const measures = resolveMeasures(nodeId, input, p.measures, 'params.measures');
    const sets = setsKeepingMultiValued(input, p.groupBy, p.subtotals === 'margins' ? cube(p.groupBy) : [p.groupBy]);
    return { table: rel.aggregate(r, p.groupBy, sets, measures.ir, input.unit.column, input.unit.unique === true) };
  },
});
