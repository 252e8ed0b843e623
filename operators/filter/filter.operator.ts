import { z } from 'zod';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { rel } from '../../sandbox/ir/rel.ts';
import { withOrigin } from '../../sandbox/ir/origin.ts';
import { defineOperator } from '../define-operator.ts';
import { checkParam, rowsInput } from '../operator-helpers.ts';

export const filter = defineOperator({
  id: 'filter', version: 1,
  label: { zh: '筛选', en: 'Filter' },
  help: {
    zh: "保留满足条件的行，如 status = 'active' AND age(birth_date) >= 60。可使用身份号码等标识信息筛选，但它们不会出现在结果中。",
    en: "Keep the rows that meet a condition, e.g. status = 'active' AND age(birth_date) >= 60. Identifiers may be used here; they never reach a result.",
  },
  category: 'transform',
  params: z.object({ condition: z.string().min(1).max(8000) }).strict(),
  ui: { condition: { widget: 'expression', placeholder: { zh: "status = 'active'", en: "status = 'active'" } } },
  inputs: { rows: 'rows' },
  outputs: { rows: 'rows' },
  policyAction: 'transform',
  infer: ({ nodeId, params, inputs }) => {
    const input = rowsInput(nodeId, inputs, 'rows');
    const checked = checkParam(nodeId, 'params.condition', params.condition, input);
    if (checked.info.type !== 'boolean') {
      throw new LabError('LAB-E051', { detail: t('筛选条件必须是真/假判断', 'a filter condition must be true/false'), nodeId, field: 'params.condition' });
    }
    return { rows: input };
  },
  plan: ({ nodeId, params, inputs, inferredInputs }) => {
    const input = rowsInput(nodeId, inferredInputs, 'rows');
    const r = inputs['rows'];
    if (!r) throw new Error('filter planned without input');
    return { rows: withOrigin(rel.filter(r, checkParam(nodeId, 'params.condition', params.condition, input)), { nodeId, field: 'params.condition' }) };
  },
});
