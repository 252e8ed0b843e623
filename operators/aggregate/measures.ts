import { z } from 'zod';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { AggMeasure } from '../../sandbox/ir/rel.ts';
import type { RowsRelation, TableMeasure } from '../../sandbox/pipeline/relation.ts';
import { columnOf, columnNameRegex, refuseIdentifierKey } from '../operator-helpers.ts';

/** A measure: the count of persons (the privacy unit), a count of distinct values, a sum or a mean. */
export const measureSchema = z.object({
  kind: z.enum(['count_persons', 'count_distinct', 'sum', 'mean']),
  column: z.string().max(63).optional(),
  name: z.string().regex(columnNameRegex).optional(),
}).strict();
export type MeasureParam = z.infer<typeof measureSchema>;

const LABELS = {
  count_persons: { zh: '人数', en: 'Persons' },
  count_distinct: { zh: '不同值个数', en: 'Distinct values' },
  sum: { zh: '合计', en: 'Sum' },
  mean: { zh: '平均', en: 'Mean' },
} as const;

/** Checks measures against the input and gives the table's measure columns and the IR's. */
export function resolveMeasures(nodeId: string, input: RowsRelation, measures: readonly MeasureParam[], fieldPrefix: string): { table: TableMeasure[]; ir: AggMeasure[] } {
  const table: TableMeasure[] = [];
  const ir: AggMeasure[] = [];
  const names = new Set<string>();
  measures.forEach((m, i) => {
    const field = `${fieldPrefix}.${i}`;
    const name = m.name ?? (m.kind === 'count_persons' ? (input.unit.kind === 'person' ? 'persons' : 'units') : `${m.kind}_${m.column ?? ''}`);
    if (!columnNameRegex.test(name)) throw new LabError('LAB-E003', { detail: t(`统计列名 ${name} 不合法`, `measure name ${name} is not valid`), nodeId, field: `${field}.name` });
    if (names.has(name)) throw new LabError('LAB-E064', { detail: t(`统计列名 ${name} 重复`, `measure name ${name} is used twice`), nodeId, field: `${field}.name` });
    names.add(name);
    if (m.kind === 'count_persons') {
      table.push({ name, kind: m.kind, label: input.unit.kind === 'person' ? LABELS.count_persons : { zh: '单位数', en: 'Units' } });
      ir.push({ name, kind: m.kind });
      return;
    }
    if (!m.column) throw new LabError('LAB-E003', { detail: t(`${LABELS[m.kind].zh}需要选择列`, `${LABELS[m.kind].en} needs a column`), nodeId, field: `${field}.column` });
    const col = columnOf(nodeId, `${field}.column`, input, m.column);
    if ((m.kind === 'sum' || m.kind === 'mean') && col.type !== 'int' && col.type !== 'numeric') {
      throw new LabError('LAB-E051', { detail: t(`${LABELS[m.kind].zh}需要数值列，${col.name} 不是`, `${LABELS[m.kind].en} needs a numeric column; ${col.name} is not`), nodeId, field: `${field}.column` });
    }
    // I3: a sum or mean of an identifier (a person number, a derived ID digit) is its value in another form.
    if (m.kind === 'sum' || m.kind === 'mean') refuseIdentifierKey(nodeId, `${field}.column`, col);
    table.push({ name, kind: m.kind, column: col, label: { zh: `${LABELS[m.kind].zh}（${col.label?.zh ?? col.name}）`, en: `${LABELS[m.kind].en} of ${col.label?.en ?? col.name}` } });
    ir.push({ name, kind: m.kind, column: col.name });
  });
  if (ir.some((m) => m.kind === 'count_distinct') && ir.some((m) => m.kind === 'sum' || m.kind === 'mean')) {
    throw new LabError('LAB-E003', {
      detail: t('“不同值个数”不能与合计/平均放在同一个统计节点，请分成两个节点', '“distinct values” cannot share a node with sums or means; use two nodes'),
      nodeId, field: fieldPrefix,
    });
  }
  return { table, ir };
}
