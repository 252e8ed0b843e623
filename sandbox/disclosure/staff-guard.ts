import { LabError, t } from '../errors/index.ts';
import { FINGERPRINT_COLUMN, GROUPING_COLUMN, UNITS_COLUMN, nonzeroColumn, top1Column, top2Column } from '../compile/plan.compile.ts';
import type { AggregateTable } from '../pipeline/relation.ts';
import { buildCellStructure, type Cell, type CellStructure } from './cell-structure.ts';
import type { StaffGuardParams } from './guard-params.ts';
import type { ReleasedRow, ReleasedTable } from './released-table.ts';
import { cellIdentity, type LedgerEntry, type PriorReleases } from './release-ledger.ts';
import { secondarySuppression } from './secondary-suppression.ts';
import { protectSums, type SumMeasure } from './sum-protection.ts';
import { contributionStep, meanStep } from './rounding.ts';

export { contributionStep, meanStep } from './rounding.ts';

export type RawRow = Readonly<Record<string, unknown>>;

export interface GuardOptions {
  /** Cells this domain released before (the release ledger); needs `__fp` on the rows. */
  readonly prior?: PriorReleases;
  /** Called for every cell released now, for the ledger. */
  readonly onReleased?: (entry: LedgerEntry) => void;
  /** Called for every cell suppressed now, for the ledger (later tables keep it protected). */
  readonly onSuppressed?: (entry: LedgerEntry) => void;
}

const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const keyText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * The disclosure guard for staff. Runs inside the domain worker, on the stage's pre-guard rows;
 * only its output leaves the domain. Person is the privacy unit (`__units`).
 *
 * 1. Group-by cardinality: a non-geography key with more than `maxLevels` values in released cells
 *    refuses the table (checked after suppression, so that a refusal says nothing the table would not).
 * 2. Primary suppression: cells of at most `threshold` persons; for sums and means also cells with
 *    at most `threshold` persons contributing a non-zero amount, the p% rule and (2,k) dominance on
 *    per-person contributions.
 *    Against the release ledger (release-ledger.ts): a cell whose contributor set differs from that
 *    of a cell with the same keys released or suppressed before, while their counts differ by
 *    1…`threshold`, is suppressed too (the difference of the two would be a small cell: differencing
 *    across jobs); a cell with the same contributor set as a cell suppressed before, under any
 *    keys, stays suppressed; a cell with the same contributor set as one released before (same
 *    keys) is released again and never chosen as a secondary suppression (its value is known).
 * 3. Secondary suppression across every subtotal and margin (see secondary-suppression.ts).
 * 4. Counts and sums rounded to the nearest `rounding` (after optional cell-key noise: the same
 *    persons always get the same offset), means to a step that gives the sum no more precisely.
 *    See `releasedValues`.
 * 5. Cells holding every person of their parent group are flagged (class disclosure).
 * Nothing in the output or in an error says why a cell was suppressed or what it held.
 */
export function guardForStaff(table: AggregateTable, rows: readonly RawRow[], params: StaffGuardParams, options: GuardOptions = {}): ReleasedTable {
  const K = table.keys.length;
  const keyNames = table.keys.map((k) => k.name);
  // Canonical order (totals first, then by key), so the result never depends on the order rows came in.
  const parsed = rows.map((r) => ({ r, grouping: num(r[GROUPING_COLUMN]) || 0, keys: keyNames.map((k) => keyText(r[k])) }));
  parsed.sort((a, b) => a.grouping - b.grouping || compareKeys(a.keys, b.keys));
  rows = parsed.map((p) => p.r);
  const cells: Cell[] = parsed.map((p, index) => ({ index, grouping: p.grouping, keys: p.keys, units: num(p.r[UNITS_COLUMN]) }));

  // 2. Primary suppression.
  const suppressed = cells.map((c) => !(c.units > params.threshold));
  // Per sum or mean: each cell's exact sum, and the cells the p% or dominance rule flags, with the
  // protection their sums need (p × top contribution) — see sum-protection.ts.
  const sums: SumMeasure[] = [];
  table.measures.forEach((m) => {
    if (m.kind !== 'sum' && m.kind !== 'mean') return;
    const values = rows.map((r, i) => { const v = num(r[m.name]); return m.kind === 'mean' ? v * (cells[i]?.units ?? 0) : v; });
    const sensitive = new Map<number, number>();
    sums.push({ values, sensitive });
    rows.forEach((r, i) => {
      if (suppressed[i]) return;
      // The count threshold on the persons whose contribution is not zero (a sum of a 0/1
      // indicator is a count of its own; a sum of 0 is the count 0 of that subgroup). A row
      // without the column is suppressed: the rule must not be skipped silently.
      if (!(num(r[nonzeroColumn(m.name)]) > params.threshold)) suppressed[i] = true;
      const value = num(r[m.name]);
      if (!Number.isFinite(value)) { suppressed[i] = true; return; }
      const total = m.kind === 'mean' ? value * (cells[i]?.units ?? 0) : value;
      const t1 = Math.max(0, num(r[top1Column(m.name)]) || 0);
      const t2 = Math.max(0, num(r[top2Column(m.name)]) || 0);
      if (!(total > 0)) return;
      // Dominated (p% or (2,k)): suppressed, and its sum needs a protection interval.
      if (total - t1 - t2 < params.pPercent * t1 || t1 + t2 > params.nkK * total) {
        suppressed[i] = true;
        sensitive.set(i, params.pPercent * t1);
      }
    });
  });

  // Differencing against the ledger; cells known from before are locked released.
  const locked = cells.map(() => false);
  const fingerprints = rows.map((r) => { const fp = r[FINGERPRINT_COLUMN]; return typeof fp === 'string' ? fp : undefined; });
  const prior = options.prior;
  if (prior) {
    cells.forEach((c, i) => {
      const fp = fingerprints[i];
      if (fp === undefined) return;
      const id = cellIdentity(keyNames, c.grouping, c.keys);
      let releasedBefore = false;
      for (const p of prior.cellsLike(id.keyset, id.cell)) {
        if (p.fingerprint === fp) { if (!p.suppressed) releasedBefore = true; continue; }
        const d = Math.abs(p.units - c.units);
        if (d >= 1 && d <= params.threshold) suppressed[i] = true;
      }
      if (releasedBefore) { if (!suppressed[i]) locked[i] = true; }
      // The same contributors were suppressed before (under these keys or any others): their value
      // would complete the earlier table's equations, so the cell stays suppressed — unless it
      // was released before as well (then it is known already).
      else if (prior.suppressedBefore(fp)) suppressed[i] = true;
    });
    cells.forEach((_, i) => { if (suppressed[i]) locked[i] = false; });
  }

  // 3. Secondary suppression.
  const structure = buildCellStructure(cells, K);
  const unprotectable = () => new LabError('LAB-E072', {
    detail: t('此前已发布的单元格使本表的小数值无法得到保护', 'cells released earlier leave small values of this table unprotectable'),
    hint: t('请调整分组或筛选条件，或联系数据官', 'Change the grouping or the filters, or ask a data officer'),
  });
  if (!secondarySuppression(structure, suppressed, locked)) throw unprotectable();
  // Sums of dominated cells: partners that leave their protection interval open, then the counts again.
  for (let more = protectSums(structure, suppressed, locked, sums); more.length > 0; more = protectSums(structure, suppressed, locked, sums)) {
    for (const x of more) suppressed[x] = true;
    if (!secondarySuppression(structure, suppressed, locked)) throw unprotectable();
  }

  // 1. Cardinality of non-geography keys, counted over the released cells only: a refusal must tell
  // nothing the released table would not (a value held only by suppressed cells would otherwise
  // fail the job exactly when that value occurs: a one-bit answer about a suppressed cell).
  table.keys.forEach((k, i) => {
    if (k.geoLevel) return;
    const values = new Set<string>();
    cells.forEach((c, j) => { if (!suppressed[j]) { const v = c.keys[i]; if (v !== null && v !== undefined) values.add(v); } });
    if (values.size > params.maxLevels) {
      throw new LabError('LAB-E065', {
        detail: t(`分组列 ${k.name} 的取值超过 ${params.maxLevels} 个，无法发布`, `group column ${k.name} has more than ${params.maxLevels} values; the table cannot be released`),
        hint: t('请先用 bucket() 或 CASE 归并取值', 'Merge values first with bucket() or CASE'),
        field: k.name,
      });
    }
  });

  // 5. Class disclosure: a released cell with all of its parent's persons.
  const allOfParent = cells.map(() => false);
  for (const g of structure.groups) {
    const p = cells[g.parent];
    if (!p || suppressed[g.parent]) continue;
    for (const c of g.children) if (!suppressed[c] && cells[c]?.units === p.units) allOfParent[c] = true;
  }

  // 4. Output: counts, sums and means with the same precision (see `releasedValues`). Listed are
  // the released cells and the suppressed cells that hold one of them (their existence follows from
  // the released cells); every other suppressed cell is left out, so that which key combinations
  // occur is never shown beyond what is released.
  const listed = listedCells(structure, suppressed);
  const noise = params.cellKeyNoise;
  if (noise && fingerprints.some((fp) => fp === undefined)) throw new Error('cell-key noise needs the cells\' fingerprints');
  const out: ReleasedRow[] = [];
  cells.forEach((c, i) => {
    const fpi = fingerprints[i];
    if (suppressed[i] && fpi !== undefined && options.onSuppressed) options.onSuppressed({ ...cellIdentity(keyNames, c.grouping, c.keys), units: c.units, fingerprint: fpi, suppressed: true });
    if (!listed[i]) return;
    const sup = suppressed[i] === true;
    const fp = fingerprints[i];
    if (!sup && fp !== undefined && options.onReleased) options.onReleased({ ...cellIdentity(keyNames, c.grouping, c.keys), units: c.units, fingerprint: fp });
    out.push({
      keys: c.keys,
      grouping: c.grouping,
      suppressed: sup,
      rounded: !sup,
      allOfParent: allOfParent[i] === true,
      values: sup ? table.measures.map(() => null) : releasedValues(table, rows[i] ?? {}, c.units, noise ? cellKeyOffset(fp as string, noise.d) : 0, params),
    });
  });
  return {
    columns: [
      ...table.keys.map((k) => ({ name: k.name, role: 'key' as const, ...(k.column.label ? { label: k.column.label } : {}), ...(k.geoLevel ? { geoLevel: k.geoLevel } : {}) })),
      ...table.measures.map((m) => ({ name: m.name, role: 'measure' as const, label: m.label, measure: m.kind })),
    ],
    rows: out,
    guard: {
      rule: 'staff', threshold: params.threshold, rounding: params.rounding, cells: out.length, suppressed: out.filter((r) => r.suppressed).length,
      ...(noise ? { cellKeyNoise: noise.d } : {}),
    },
  };
}

/**
 * Which cells the output lists: the released ones, and each suppressed cell that holds a released
 * cell (a coarser cell over fewer keys, agreeing on those): its existence is implied by what is
 * released. A suppressed cell holding no released cell is left out: it may be empty or not.
 */
export function listedCells(s: CellStructure, suppressed: readonly boolean[]): boolean[] {
  const listed = suppressed.map((x) => !x);
  const sets = s.groupingSets;
  s.cells.forEach((c, i) => {
    if (suppressed[i]) return;
    for (const g of sets) {
      if (g === c.grouping || (g & c.grouping) !== c.grouping) continue;
      const a = s.containing(i, g);
      if (a !== undefined) listed[a] = true;
    }
  });
  return listed;
}

/**
 * A released cell's values. One rule for every measure: nothing gives a count more precisely than
 * the count itself is released.
 * - Counts: moved by the cell-key offset o (when noise is on; never below threshold + 1), rounded to
 *   the nearest `rounding`.
 * - Sums: moved by the same offset (as far as the count moved) times the largest per-person contribution (the cell-key method for magnitudes:
 *   a sum of a 0/1 indicator moves exactly as a count does, `sum(1)` equals the released count),
 *   rounded to the nearest `rounding` × c, where c is the largest per-person contribution |top1|
 *   raised to the 1-2-5 series (at least 1). A sum of a constant c per person (`sum(1000)`) is then
 *   no more precise than the rounded count times c, and the difference of two sums that differ by one
 *   person's value v ≤ c is 0 or a multiple of 5c: never within the p% rule of v. Padding the cell
 *   with small values cannot make the step finer (the step follows the largest contribution).
 * - Means: the moved sum over the persons, rounded to a step no finer than the sum's step / n for
 *   every person count n the released count allows (a step of the 1-2-5 series, at least 0.1).
 *   Whoever knows the exact count learns the sum from the mean no better than from the rounded sum.
 */
function releasedValues(table: AggregateTable, row: RawRow, units: number, offset: number, params: StaffGuardParams): number[] {
  const base = params.rounding;
  const roundTo = (v: number, step: number) => Math.round(v / step) * step;
  // The offset the person count gets (never below threshold + 1), used for every measure.
  const moved = Math.max(params.threshold + 1, units + offset) - units;
  const count = roundTo(units + moved, base);
  const movedSum = (m: string, sum: number) => sum + moved * Math.abs(num(row[top1Column(m)]) || 0);
  const sumStep = (m: string) => base * contributionStep(Math.abs(num(row[top1Column(m)]) || 0));
  return table.measures.map((m) => {
    const v = num(row[m.name]);
    switch (m.kind) {
      case 'count_persons': case 'count_distinct': return roundTo(Math.max(params.threshold + 1, v + offset), base);
      case 'sum': return roundTo(movedSum(m.name, v), sumStep(m.name));
      case 'mean': {
        const fewest = Math.max(params.threshold + 1, Math.ceil(count - base / 2) - (params.cellKeyNoise?.d ?? 0));
        const step = meanStep(sumStep(m.name) / fewest);
        return Number(roundTo(movedSum(m.name, v * units) / units, step).toFixed(step < 1 ? 1 : 0));
      }
    }
  });
}

function compareKeys(a: readonly (string | null)[], b: readonly (string | null)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const TWO_53 = 2n ** 53n;
/**
 * The cell key: the contributor-set fingerprint (a sum of keyed 64-bit hashes, uniform) reduced to
 * [0, 1), then mapped to an offset in −d…d. Same persons, same key, same offset.
 */
export function cellKeyOffset(fingerprint: string, d: number): number {
  const key = Number(((BigInt(fingerprint) % TWO_53) + TWO_53) % TWO_53) / Number(TWO_53);
  return Math.min(2 * d, Math.floor(key * (2 * d + 1))) - d;
}
