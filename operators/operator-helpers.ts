import { isIdentifier, maxClassification, type DatasetSpec } from '../sandbox/domains/catalog/types.ts';
import { LabError, isLabError, t } from '../sandbox/errors/index.ts';
import { checkExpression, type Checked } from '../sandbox/expr/check.ts';
import { parseExpression } from '../sandbox/expr/parser.ts';
import { exprTypeOfColumn } from '../sandbox/expr/types.ts';
import type { PortValue, RelColumn, RowsRelation, AggregateTable } from '../sandbox/pipeline/relation.ts';

/** Catalog columns as relation columns. */
export function columnsOfDataset(ds: DatasetSpec): RelColumn[] {
  return ds.columns.map((c) => ({
    name: c.name,
    type: exprTypeOfColumn(c.type),
    semantic: c.semantic,
    level: c.level,
    identifierOrigins: isIdentifier(c.semantic) ? [c.semantic] : [],
    label: c.label,
    nullable: c.nullable ?? false,
    ...(c.geoLevel ? { geoLevel: c.geoLevel } : {}),
    ...(c.values ? { values: c.values } : {}),
    ...(c.bounds ? { bounds: c.bounds } : {}),
    ...(ds.unit.unique === true || (ds.unit.placePerUnit === true && c.geoLevel) ? { perUnit: true } : {}),
  }));
}

/** Parses and checks an expression parameter, naming the node and field in any error. */
export function checkParam(nodeId: string, field: string, text: string, input: RowsRelation): Checked {
  try {
    return checkExpression(parseExpression(text), input.columns);
  } catch (e) {
    if (isLabError(e)) {
      throw new LabError(e.code, {
        ...(e.detail ? { detail: e.detail } : {}),
        ...(e.hint ? { hint: e.hint } : {}),
        ...(e.span ? { span: e.span } : {}),
        nodeId, field,
      });
    }
    throw e;
  }
}

export function rowsInput(nodeId: string, inputs: Readonly<Record<string, PortValue>>, port: string): RowsRelation {
  const v = inputs[port];
  if (!v || v.kind !== 'rows') {
    throw new LabError('LAB-E061', { detail: t(`端口 ${port} 需要明细数据`, `port ${port} needs row data`), nodeId, field: `inputs.${port}` });
  }
  return v;
}

export function tableInput(nodeId: string, inputs: Readonly<Record<string, PortValue>>, port: string): AggregateTable {
  const v = inputs[port];
  if (!v || v.kind !== 'table') {
    throw new LabError('LAB-E061', { detail: t(`端口 ${port} 需要统计表`, `port ${port} needs an aggregate table`), nodeId, field: `inputs.${port}` });
  }
  return v;
}

export function columnOf(nodeId: string, field: string, input: RowsRelation, name: string): RelColumn {
  const c = input.columns.find((x) => x.name === name);
  if (!c) {
    throw new LabError('LAB-E052', { detail: t(`输入中没有列 ${name}`, `the input has no column ${name}`), nodeId, field });
  }
  return c;
}

/** I3: identifiers (and anything derived from one) are never grouped or output. */
export function refuseIdentifierKey(nodeId: string, field: string, c: RelColumn): void {
  if (c.identifierOrigins.length > 0) {
    throw new LabError('LAB-E063', {
      detail: t(`列 ${c.name} 是标识信息（${c.identifierOrigins.join('、')}）或由其派生，不能作为分组或输出`,
        `column ${c.name} is an identifier (${c.identifierOrigins.join(', ')}) or derived from one, and cannot be grouped on or output`),
      hint: t('可用于筛选和关联；如需按地区统计，请使用地理编码列或 region_of_id()', 'It may be used in filters and joins; to count by region use a geography column or region_of_id()'),
      nodeId, field,
    });
  }
}

export const levelOf = (cols: readonly RelColumn[]) => maxClassification(...cols.map((c) => c.level));

/** Column names made by users: lower snake case, not clashing with the SQL keywords we emit. */
export const columnNameRegex = /^[a-z][a-z0-9_]{0,39}$/;
