import { LabError, t } from '../errors/index.ts';
import { FINGERPRINT_COLUMN, GROUPING_COLUMN, UNITS_COLUMN, top1Column, top2Column } from '../compile/plan.compile.ts';
import type { AggregateTable } from '../pipeline/relation.ts';
import { buildCellStructure, type Cell } from './cell-structure.ts';
import type { StaffGuardParams } from './guard-params.ts';
import type { ReleasedRow, ReleasedTable } from './released-table.ts';
import { cellIdentity, type LedgerEntry, type PriorReleases } from './release-ledger.ts';
import { secondarySuppression } from './secondary-suppression.ts';

export type RawRow = Readonly<Record<string, unknown>>;

export interface GuardOptions {
  /** Cells this domain released before (the release ledger); needs `__fp` on the rows. */
  readonly prior?: PriorReleases;
  /** Called for every cell released now, for the ledger. */
  readonly onReleased?: (entry: LedgerEntry) => void;
}

const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const keyText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * The disclosure guard for staff. Runs inside the domain worker, on the stage's pre-guard rows;
 * only its output leaves the domain. Person is the privacy unit (`__units`).
 *
 * 1. Group-by cardinality: a non-geography key with more than `maxLevels` values refuses the table.
 * 2. Primary suppression: cells of at most `threshold` persons; for sums and means also the p% rule
 *    and (2,k) dominance on per-person contributions.
 *    Against the release ledger (release-ledger.ts): a cell whose contributor set differs from that
 *    of a cell with the same keys released before, while their counts differ by 1…`threshold`, is
 *    suppressed too (the difference of the two would be a small cell: differencing across jobs); a
 *    cell with the same contributor set as before is released again and never chosen as a
 *    secondary suppression (its value is known).
 * 3. Secondary suppression across every subtotal and margin (see secondary-suppression.ts).
 * 4. Counts rounded to the nearest `rounding` (after optional cell-key noise: the same persons always
 *    get the same offset); sums to whole numbers, means to one decimal.
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

  // 1. Cardinality of non-geography keys (counted over the finest cells).
  table.keys.forEach((k, i) => {
    if (k.geoLevel) return;
    const values = new Set<string>();
    for (const c of cells) if (c.grouping === 0) { const v = c.keys[i]; if (v !== null && v !== undefined) values.add(v); }
    if (values.size > params.maxLevels) {
      throw new LabError('LAB-E065', {
        detail: t(`分组列 ${k.name} 的取值超过 ${params.maxLevels} 个，无法发布`, `group column ${k.name} has more than ${params.maxLevels} values; the table cannot be released`),
        hint: t('请先用 bucket() 或 CASE 归并取值', 'Merge values first with bucket() or CASE'),
        field: k.name,
      });
    }
  });

  // 2. Primary suppression.
  const suppressed = cells.map((c) => !(c.units > params.threshold));
  table.measures.forEach((m) => {
    if (m.kind !== 'sum' && m.kind !== 'mean') return;
    rows.forEach((r, i) => {
      if (suppressed[i]) return;
      const value = num(r[m.name]);
      const total = m.kind === 'mean' ? value * (cells[i]?.units ?? 0) : value;
      const t1 = Math.max(0, num(r[top1Column(m.name)]) || 0);
      const t2 = Math.max(0, num(r[top2Column(m.name)]) || 0);
      if (!(total > 0)) return;
      if (total - t1 - t2 < params.pPercent * t1) suppressed[i] = true;
      else if (t1 + t2 > params.nkK * total) suppressed[i] = true;
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
      for (const p of prior.cellsLike(id.keyset, id.cell)) {
        if (p.fingerprint === fp) { if (!suppressed[i]) locked[i] = true; continue; }
        const d = Math.abs(p.units - c.units);
        if (d >= 1 && d <= params.threshold) suppressed[i] = true;
      }
    });
    cells.forEach((_, i) => { if (suppressed[i]) locked[i] = false; });
  }

  // 3. Secondary suppression.
  const structure = buildCellStructure(cells, K);
  if (!secondarySuppression(structure, suppressed, locked)) {
    throw new LabError('LAB-E072', {
      detail: t('此前已发布的单元格使本表的小数值无法得到保护', 'cells released earlier leave small values of this table unprotectable'),
      hint: t('请调整分组或筛选条件，或联系数据官', 'Change the grouping or the filters, or ask a data officer'),
    });
  }

  // 5. Class disclosure: a released cell with all of its parent's persons.
  const allOfParent = cells.map(() => false);
  for (const g of structure.groups) {
    const p = cells[g.parent];
    if (!p || suppressed[g.parent]) continue;
    for (const c of g.children) if (!suppressed[c] && cells[c]?.units === p.units) allOfParent[c] = true;
  }

  // 4. Output (with cell-key noise on counts when the rules ask for it).
  const noise = params.cellKeyNoise;
  if (noise && fingerprints.some((fp) => fp === undefined)) throw new Error('cell-key noise needs the cells\' fingerprints');
  const noisy = (v: number, i: number) => (noise ? Math.max(params.threshold + 1, v + cellKeyOffset(fingerprints[i] as string, noise.d)) : v);
  const out: ReleasedRow[] = cells.map((c, i) => {
    const sup = suppressed[i] === true;
    const fp = fingerprints[i];
    if (!sup && fp !== undefined && options.onReleased) options.onReleased({ ...cellIdentity(keyNames, c.grouping, c.keys), units: c.units, fingerprint: fp });
    return {
      keys: c.keys,
      grouping: c.grouping,
      suppressed: sup,
      rounded: !sup,
      allOfParent: allOfParent[i] === true,
      values: table.measures.map((m) => {
        if (sup) return null;
        const v = num(rows[i]?.[m.name]);
        switch (m.kind) {
          case 'count_persons': case 'count_distinct': return Math.round(noisy(v, i) / params.rounding) * params.rounding;
          case 'sum': return Math.round(v);
          case 'mean': return Math.round(v * 10) / 10;
        }
      }),
    };
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
