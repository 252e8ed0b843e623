import { z } from 'zod';
import { maxClassification } from '../../sandbox/domains/catalog/types.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { rel } from '../../sandbox/ir/rel.ts';
import type { RelColumn, RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { defineOperator } from '../define-operator.ts';
import { rowsInput } from '../operator-helpers.ts';

const sameShape = (a: RelColumn, b: RelColumn) => a.type === b.type && a.semantic === b.semantic && a.geoLevel === b.geoLevel;

/** Two columns of one name merged: the stricter classification, every identifier origin, both code lists. */
function mergeColumn(a: RelColumn, b: RelColumn): RelColumn {
  // perUnit is dropped: two datasets may place one person differently.
  const { values: _v, bounds: _b, multiValued: _m, perUnit: _p, ...rest } = a;
  const values = a.values && b.values ? { ...a.values, ...b.values } : undefined;
  const bounds = a.bounds && b.bounds ? [Math.min(a.bounds[0], b.bounds[0]), Math.max(a.bounds[1], b.bounds[1])] as const : undefined;
  return {
    ...rest,
    level: maxClassification(a.level, b.level),
    identifierOrigins: [...new Set([...a.identifierOrigins, ...b.identifierOrigins])],
    nullable: a.nullable || b.nullable,
    ...(a.multiValued || b.multiValued ? { multiValued: true } : {}),
    ...(values ? { values } : {}),
    ...(bounds ? { bounds } : {}),
  };
}

/**
 * The appended relation: rows of both inputs with the columns they share (same name, type, semantic
 * type and geography level; the others are dropped). Both must be in one domain and count the same
 * privacy unit.
 */
function appended(nodeId: string, a: RowsRelation, b: RowsRelation): RowsRelation {
  if (a.domain !== b.domain) {
    throw new LabError('LAB-E067', {
      detail: t(`两个输入分属 ${a.domain} 与 ${b.domain} 两个部门，不能合并明细`, `the inputs belong to two departments (${a.domain}, ${b.domain}); their rows cannot be appended`),
      nodeId, field: 'inputs.b',
    });
  }
  if (a.unit.column !== b.unit.column || a.unit.kind !== b.unit.kind) {
    throw new LabError('LAB-E084', {
      detail: t(`两个输入的统计单位不同（${a.unit.column} 与 ${b.unit.column}）`, `the inputs count different units (${a.unit.column} and ${b.unit.column})`),
      nodeId, field: 'inputs.b',
    });
  }
  const columns = a.columns.flatMap((ca) => {
    const cb = b.columns.find((x) => x.name === ca.name);
    return cb && sameShape(ca, cb) ? [mergeColumn(ca, cb)] : [];
  });
  if (!columns.some((c) => c.name === a.unit.column)) {
    throw new LabError('LAB-E084', {
      detail: t(`统计单位列 ${a.unit.column} 在两个输入中类型不同`, `the unit column ${a.unit.column} differs in type between the inputs`),
      nodeId, field: 'inputs.b',
    });
  }
  return {
    kind: 'rows', domain: a.domain,
    unit: { column: a.unit.column, kind: a.unit.kind },
    columns,
    datasets: [...new Set([...a.datasets, ...b.datasets])],
  };
}

export const union = defineOperator({
  id: 'union', version: 1,
  label: { zh: '追加合并', en: 'Append rows' },
  help: {
    zh: '把同一部门的两路明细上下合并（UNION ALL），保留两边同名同类型的列，如把几个数据集分别打好标签后合并，再统一按“社区 × 标签”统计。三路及以上可连续合并。',
    en: 'Append the rows of two inputs of one department (UNION ALL), keeping the columns both have with the same type, e.g. merge several tagged datasets and then count by community × tag once. Chain it for three or more inputs.',
  },
  category: 'transform',
  params: z.object({}).strict(),
  ui: {},
  inputs: { a: 'rows', b: 'rows' },
  outputs: { rows: 'rows' },
  policyAction: 'transform',
  infer: ({ nodeId, inputs }) => ({ rows: appended(nodeId, rowsInput(nodeId, inputs, 'a'), rowsInput(nodeId, inputs, 'b')) }),
  plan: ({ nodeId, inputs, inferredInputs }) => {
    const a = inputs['a'];
    const b = inputs['b'];
    if (!a || !b) throw new Error('union planned without inputs');
    const out = appended(nodeId, rowsInput(nodeId, inferredInputs, 'a'), rowsInput(nodeId, inferredInputs, 'b'));
    return { rows: rel.union([a, b], out.columns.map((c) => c.name)) };
  },
});
