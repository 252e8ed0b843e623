import type { DomainId } from '../domain-ids.ts';

/**
 * Semantic types. Identifier types (I3) may be used inside a domain (joins, filters, tags,
 * face checks) but never appear in an output nor serve as a group-by key.
 */
export const SEMANTIC_TYPES = [
  'id_number', 'name', 'phone', 'address', 'photo', 'face_template', 'record_id',
  'date', 'category', 'measure', 'geo_code', 'flag', 'text',
] as const;
export type SemanticType = (typeof SEMANTIC_TYPES)[number];

export const IDENTIFIER_TYPES: ReadonlySet<SemanticType> = new Set<SemanticType>([
  'id_number', 'name', 'phone', 'address', 'photo', 'face_template', 'record_id',
]);
export const isIdentifier = (s: SemanticType): boolean => IDENTIFIER_TYPES.has(s);

/** Classification levels: L1 public, L2 internal, L3 sensitive, L4 core-sensitive. */
export const CLASSIFICATIONS = ['L1', 'L2', 'L3', 'L4'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];
export const maxClassification = (...levels: Classification[]): Classification =>
  levels.reduce<Classification>((a, b) => (a >= b ? a : b), 'L1');

/** Physical column types (Postgres). */
export type ColumnType = 'text' | 'date' | 'int' | 'bigint' | 'numeric' | 'boolean' | 'bytea';

export interface Bilingual { readonly zh: string; readonly en: string }

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly semantic: SemanticType;
  readonly level: Classification;
  readonly label: Bilingual;
  readonly nullable?: boolean;
  /** Closed code list for categories (the labels the UI shows). */
  readonly values?: Readonly<Record<string, Bilingual>>;
  /** For measures: clamping bounds used by DP and dominance checks. */
  readonly bounds?: readonly [number, number];
  /** For geo codes: which level of the hierarchy the column holds. */
  readonly geoLevel?: GeoLevel;
}

export type GeoLevel = 'district' | 'street' | 'community' | 'grid';
export const GEO_LEVELS: readonly GeoLevel[] = ['district', 'street', 'community', 'grid'];

export interface DatasetSpec {
  /** `<domain>.<table>` */
  readonly id: string;
  readonly domain: DomainId;
  readonly table: string;
  readonly label: Bilingual;
  readonly description: Bilingual;
  /** Whose rows these are: the privacy unit column (a person's ID number) or a house; `unique` when each unit has one row. */
  readonly unit: {
    readonly column: string;
    readonly kind: 'person' | 'house' | 'event';
    readonly unique?: boolean;
    /** Several rows per unit, but the geography columns name one place per unit in this dataset. */
    readonly placePerUnit?: boolean;
  };
  readonly columns: readonly ColumnSpec[];
}
