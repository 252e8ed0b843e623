import highsModule, { type LegacyHighs } from 'highs';

// highs ships a CommonJS typing whose default export TypeScript (NodeNext) sees as the namespace;
// at run time the ESM build's default export is the loader function itself.
type Loader = () => Promise<LegacyHighs>;
const loadHighs: Loader = (highsModule as unknown as { default?: Loader }).default ?? (highsModule as unknown as Loader);
const highs: LegacyHighs = await loadHighs();

/**
 * Which unknowns can rise: the support of a largest non-negative solution of `rows · d = 0`
 * (each row a sparse map from unknown to coefficient); unknowns of no row are not reported. What
 * single-signed rows leave is solved as one linear programme (HiGHS):
 * maximise Σ tᵢ subject to rows · d = 0, d ≥ 0, dᵢ ≥ tᵢ, 0 ≤ tᵢ ≤ 1. Solutions form a cone closed
 * under addition, so at an optimum every unknown that can be positive has tᵢ = 1.
 */
export function canRise(input: readonly ReadonlyMap<number, number>[]): Set<number> {
  // A row whose coefficients share one sign forces its unknowns to 0; drop them everywhere and
  // repeat. Usually nothing is left for the linear programme.
  let rows = input.map((r) => new Map(r));
  const zero = new Set<number>();
  for (let changed = true; changed;) {
    changed = false;
    for (const r of rows) {
      for (const k of zero) r.delete(k);
      if (r.size === 0) continue;
      let pos = false; let neg = false;
      for (const c of r.values()) { if (c > 0) pos = true; else neg = true; }
      if (pos !== neg) { for (const k of r.keys()) zero.add(k); r.clear(); changed = true; }
    }
    rows = rows.filter((r) => r.size > 0);
  }
  const vars = new Set<number>();
  for (const r of rows) for (const k of r.keys()) vars.add(k);
  if (vars.size === 0) return new Set();
  const term = (coef: number, name: string, first: boolean) => {
    const sign = coef < 0 ? '-' : '+';
    const mag = Math.abs(coef);
    return `${first && sign === '+' ? '' : ` ${sign} `}${mag === 1 ? '' : `${String(mag)} `}${name}`;
  };
  const lines: string[] = ['Maximize', ` obj: ${[...vars].map((v) => `t${v}`).join(' + ')}`, 'Subject To'];
  rows.forEach((r, i) => {
    let first = true;
    let text = '';
    for (const [k, c] of r) { text += term(c, `d${k}`, first); first = false; }
    lines.push(` r${i}: ${text} = 0`);
  });
  for (const v of vars) lines.push(` l${v}: d${v} - t${v} >= 0`);
  lines.push('Bounds');
  for (const v of vars) lines.push(` 0 <= t${v} <= 1`);
  lines.push('End');
  const solution = highs.solve(lines.join('\n'));
  if (solution.Status !== 'Optimal') throw new Error(`floor audit: linear programme ended ${solution.Status}`);
  const out = new Set<number>();
  for (const v of vars) if ((solution.Columns[`t${v}`]?.Primal ?? 0) > 0.5) out.add(v);
  return out;
}

/** A linear programme in CPLEX LP format, solved by the same HiGHS instance. */
export function solveLp(text: string): ReturnType<LegacyHighs['solve']> {
  return highs.solve(text);
}
