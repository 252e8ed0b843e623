import { z } from 'zod';
import { findDataset } from '../../sandbox/domains/catalog/index.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { rel } from '../../sandbox/ir/rel.ts';
import { defineOperator } from '../define-operator.ts';
import { columnsOfDataset } from '../operator-helpers.ts';

export const source = defineOperator({
  id: 'source', version: 1,
  label: { zh: '数据源', en: 'Dataset' },
  help: {
    zh: '从目录中选择一个数据集。数据始终留在所属部门（域）内，只有统计结果经审核后才能离开。',
    en: 'Pick a dataset from the catalog. Its rows stay inside their department (domain); only guarded aggregates ever leave.',
  },
  category: 'source',
  params: z.object({ dataset: z.string().min(1).max(80) }).strict(),
  ui: { dataset: { widget: 'dataset' } },
  inputs: {},
  outputs: { rows: 'rows' },
  policyAction: 'read-dataset',
  infer: ({ nodeId, params }) => {
    const ds = findDataset(params.dataset);
    if (!ds) throw new LabError('LAB-E062', { detail: t(`目录中没有数据集 ${params.dataset}`, `no dataset ${params.dataset} in the catalog`), nodeId, field: 'params.dataset' });
    return { rows: { kind: 'rows', domain: ds.domain, unit: ds.unit, columns: columnsOfDataset(ds), datasets: [ds.id] } };
  },
  plan: ({ params, inferredInputs: _ }) => {
    const ds = findDataset(params.dataset);
    if (!ds) throw new Error('source planned without inference');
    return { rows: rel.scan(ds.domain, ds.table, ds.columns.map((c) => c.name)) };
  },
});
