/**
 * Disclosure rules for staff (DESIGN §5 defaults). These are policy: the policies work versions
 * them in the control database; the guard receives them with each stage.
 */
export interface StaffGuardParams {
  /** Counts of persons at or below this are suppressed (primary suppression). */
  readonly threshold: number;
  /** Released counts are rounded to the nearest multiple of this. */
  readonly rounding: number;
  /** p% rule for sums and means: sensitive when total − top1 − top2 < p × top1. */
  readonly pPercent: number;
  /** (n,k) dominance with n = 2: sensitive when top1 + top2 > k × total. */
  readonly nkK: number;
  /** Non-geography keys may have at most this many distinct values in released cells. */
  readonly maxLevels: number;
  /**
   * Optional cell-key noise on counts: each released count moves by an integer in −d…d (uniform,
   * zero mean) before rounding, chosen by the cell's contributor-set fingerprint, so the same
   * persons always get the same answer, in any table and any job. Off unless policy sets it.
   */
  readonly cellKeyNoise?: { readonly d: number };
}

export const DEFAULT_STAFF_PARAMS: StaffGuardParams = { threshold: 7, rounding: 5, pPercent: 0.1, nkK: 0.9, maxLevels: 40 };
