import { z } from 'zod';
import { defineOperator } from '../define-operator.ts';
import { tableInput } from '../operator-helpers.ts';

export const output = defineOperator({
  id: 'output', version: 1,
  label: { zh: '输出结果', en: 'Output' },
  help: {
    zh: '发布统计表。发布前经过披露审查：小于等于阈值的格子被抑制，其余舍入，并做二次抑制，防止从小计反推。',
    en: 'Release an aggregate table. Before release the disclosure guard suppresses small cells, rounds the rest, and suppresses more cells so none can be recovered from subtotals.',
  },
  category: 'output',
  params: z.object({
    title: z.string().max(200).optional(),
    chart: z.enum(['auto', 'table', 'bar', 'stacked-bar', 'pyramid', 'line']).default('auto'),
  }).strict(),
  ui: { title: { widget: 'text' } },
  inputs: { table: 'table' },
  outputs: {},
  policyAction: 'release',
  infer: ({ nodeId, inputs }) => {
    tableInput(nodeId, inputs, 'table');
    return {};
  },
  plan: () => ({}),
});
