import type { Bilingual, Classification, GeoLevel, SemanticType } from '../domains/catalog/types.ts';
import type { DomainId } from '../domains/domain-ids.ts';
import type { ColumnInfo, ExprType } from '../expr/types.ts';

/** A column flowing between nodes: what the expression checker needs, plus what the UI shows. */
export interface RelColumn extends ColumnInfo {
  readonly type: ExprType | 'bytes';
  readonly label?: Bilingual;
  readonly geoLevel?: GeoLevel;
  readonly values?: Readonly<Record<string, Bilingual>>;
  readonly bounds?: readonly [number, number];
  readonly nullable: boolean;
  /**
   * A unit may appear with several values of this column (a tag: one row per matching tag). A
   * subtotal that rolls it up is not the sum of its cells (a person with two tags counts once), so
   * statistics operators keep such a column in every grouping set.
   */
  readonly multiValued?: boolean;
  /**
   * One value per privacy unit (every row of a person agrees). Where the unit is not unique, only
   * such keys may be rolled up into subtotals: a total over a key that varies within a person is a
   * distinct count, not the sum of its cells (operators/aggregate/group-keys.ts).
   */
  readonly perUnit?: boolean;
}

/** Row-level data inside one domain. Never leaves it. */
export interface RowsRelation {
  readonly kind: 'rows';
  readonly domain: DomainId;
  /** Column holding the privacy unit (a person's ID number; a house for house datasets). */
  readonly unit: { readonly column: string; readonly kind: 'person' | 'house' | 'event'; readonly unique?: boolean };
  readonly columns: readonly RelColumn[];
  /** Catalog datasets feeding this relation (for policy and approvals). */
  readonly datasets: readonly string[];
}

export interface TableKey { readonly name: string; readonly geoLevel?: GeoLevel; readonly column: RelColumn }
export interface TableMeasure {
  readonly name: string;
  readonly kind: MeasureKind;
  readonly column?: RelColumn;
  readonly label: Bilingual;
}
export type MeasureKind = 'count_persons' | 'count_distinct' | 'sum' | 'mean';

/** An aggregate table (what may leave a domain, after the disclosure guard). */
export interface AggregateTable {
  readonly kind: 'table';
  readonly domain: DomainId;
  readonly keys: readonly TableKey[];
  readonly measures: readonly TableMeasure[];
  /** Grouping sets over the keys: each is the list of key names grouped on (others are subtotals). */
  readonly groupingSets: readonly (readonly string[])[];
  readonly unitKind: 'person' | 'house' | 'event';
  readonly level: Classification;
  readonly datasets: readonly string[];
}

export type PortValue = RowsRelation | AggregateTable;
export type PortType = PortValue['kind'];

export const findColumn = (r: RowsRelation, name: string) => r.columns.find((c) => c.name === name);
export const isIdentifierColumn = (c: { identifierOrigins: readonly SemanticType[] }) => c.identifierOrigins.length > 0;
