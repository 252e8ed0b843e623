import type { Bilingual, GeoLevel } from '../domains/catalog/types.ts';

/** What leaves a domain: a guarded table. No pre-guard value, no reason per cell. */
export interface ReleasedTable {
  readonly columns: readonly ReleasedColumn[];
  readonly rows: readonly ReleasedRow[];
  readonly guard: {
    /** `staff`: threshold, secondary suppression, rounding. `researcher-dp`: DP noise, then threshold and rounding. */
    readonly rule: 'staff' | 'researcher-dp';
    readonly threshold: number;
    readonly rounding: number;
    readonly cells: number;
    readonly suppressed: number;
    /** Counts carry cell-key noise of at most ±d persons before rounding (absent: no noise). */
    readonly cellKeyNoise?: number;
    /**
     * Researchers: discrete Laplace noise of `scale` (= 1/ε) on each of the `noisyCells` finest
     * cells; every subtotal is the sum of the noisy cells it rolls up.
     */
    readonly dp?: { readonly mechanism: 'discrete-laplace'; readonly epsilon: string; readonly noisyCells: number; readonly scale: string };
  };
}

export interface ReleasedColumn {
  readonly name: string;
  readonly role: 'key' | 'measure';
  readonly label?: Bilingual;
  readonly geoLevel?: GeoLevel;
  readonly measure?: 'count_persons' | 'count_distinct' | 'sum' | 'mean';
}

export interface ReleasedRow {
  /** Key values in column order; null where the key is rolled up (a subtotal). */
  readonly keys: readonly (string | null)[];
  /** Bitmask of rolled-up keys (bit i set = key i is a subtotal), first key the highest bit. */
  readonly grouping: number;
  /** Measure values in column order; null when suppressed. */
  readonly values: readonly (number | null)[];
  readonly suppressed: boolean;
  readonly rounded: boolean;
  /** Every person of the parent group falls in this cell (class disclosure): shown, flagged. */
  readonly allOfParent: boolean;
}
