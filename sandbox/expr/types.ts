import type { Classification, ColumnType, SemanticType } from '../domains/catalog/types.ts';

/** Value types of the expression language. */
export type ExprType = 'int' | 'numeric' | 'text' | 'date' | 'boolean' | 'null';

export const isNumeric = (t: ExprType) => t === 'int' || t === 'numeric';

/** What the checker knows about a column of the input (from the catalog, through inference). */
export interface ColumnInfo {
  readonly name: string;
  readonly type: ExprType | 'bytes';
  readonly semantic: SemanticType;
  readonly level: Classification;
  /** Identifier semantic types this column derives from (I3); empty when it is safe to output. */
  readonly identifierOrigins: readonly SemanticType[];
}

/** What the checker concludes about an expression. */
export interface ExprInfo {
  readonly type: ExprType;
  readonly level: Classification;
  readonly semantic: SemanticType;
  /** Non-empty means: derived from an identifier, may filter or join but never be output or grouped. */
  readonly identifierOrigins: readonly SemanticType[];
}

export function exprTypeOfColumn(t: ColumnType): ExprType | 'bytes' {
  switch (t) {
    case 'text': return 'text';
    case 'date': return 'date';
    case 'int': case 'bigint': return 'int';
    case 'numeric': return 'numeric';
    case 'boolean': return 'boolean';
    case 'bytea': return 'bytes';
  }
}

export const TYPE_LABELS: Record<ExprType | 'bytes', { zh: string; en: string }> = {
  int: { zh: '整数', en: 'integer' }, numeric: { zh: '数值', en: 'number' }, text: { zh: '文本', en: 'text' },
  date: { zh: '日期', en: 'date' }, boolean: { zh: '布尔', en: 'boolean' }, null: { zh: '空值', en: 'null' },
  bytes: { zh: '二进制', en: 'binary' },
};
