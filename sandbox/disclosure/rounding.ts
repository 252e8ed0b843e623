/**
 * The rounding steps of the staff guard's released values (docs/disclosure.md, *Precision of sums
 * and means*). Pure and free of any import, so that the guard (inside the domain) and the
 * workspace's mock-data disclosure preview (in the browser) share one definition.
 */

/** The largest per-person contribution raised to the 1-2-5 series (1, 2, 5, 10, …), at least 1. */
export function contributionStep(top1: number): number {
  return top1 <= 1 || !Number.isFinite(top1) ? 1 : meanStep(top1);
}

/** The smallest step of the 1-2-5 series (0.1, 0.2, 0.5, 1, 2, 5, 10, …) at least `min`. */
export function meanStep(min: number): number {
  for (let e = -1; ; e++) {
    for (const f of [1, 2, 5]) {
      const step = Number((f * 10 ** e).toFixed(Math.max(0, -e)));
      if (step >= min - 1e-12) return step;
    }
  }
}
