import { z } from 'zod';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { defineOperator } from '../define-operator.ts';
import { rowsInput } from '../operator-helpers.ts';

/**
 * A follow-up list (I6): the distinct persons (or houses) of its input rows, written to the outbox
 * of the domain that owns those rows, readable only by that domain's stewards
 * (`GET /api/domains/{id}/follow-ups`). The requester sees the list's count, guarded like any count.
 */
export const followUp = defineOperator({
  id: 'follow-up', version: 1,
  label: { zh: '生成随访名单', en: 'Follow-up list' },
  help: {
    zh: '把输入中的人员（或房屋）写成随访名单，保存在这些数据所属部门的库内，只有该部门的数据管理员可以查看；分析人员只看到名单人数（经过披露审查）。常接在跨部门“不存在匹配/存在匹配”之后，如疑似漏登人员。',
    en: 'Write the persons (or houses) of the input as a follow-up list kept inside the department that owns those rows, readable only by that department\u2019s stewards; the analyst sees only the list\u2019s count (guarded). Typically after a cross-department semi or anti join, e.g. suspected unregistered persons.',
  },
  category: 'output',
  params: z.object({
    title: z.string().min(1).max(200),
  }).strict(),
  ui: { title: { widget: 'text' } },
  inputs: { rows: 'rows' },
  outputs: {},
  policyAction: 'release',
  infer: ({ nodeId, inputs }) => {
    const rows = rowsInput(nodeId, inputs, 'rows');
    if (rows.unit.kind === 'event') {
      throw new LabError('LAB-E165', { detail: t('随访名单须以人员或房屋为单位', 'a follow-up list lists persons or houses'), nodeId, field: 'inputs.rows' });
    }
    return {};
  },
  plan: () => ({}),
});
