import type { GeoLevel } from '../domains/catalog/types.ts';
import { div, formatRational, parseRational, rational } from '../dp/rational.ts';
import { noiseTable, type TableCellInput } from '../dp/index.ts';
import type { Rng } from '../dp/rng.ts';
import { LabError, t } from '../errors/index.ts';
import type { Expr } from '../expr/ast.ts';
import type { Rel } from '../ir/rel.ts';
import type { AggregateTable } from '../pipeline/relation.ts';
import { GROUPING_COLUMN, UNITS_COLUMN } from '../compile/plan.compile.ts';
import type { StaffGuardParams } from './guard-params.ts';
import type { ReleasedTable } from './released-table.ts';
import type { RawRow } from './staff-guard.ts';

/** A unit of the public reference geography (each domain holds a copy in `geo_unit`). */
export interface GeoUnitRow { readonly code: string; readonly level: GeoLevel; readonly parent_code: string | null }

/** Most cells a DP release enumerates (the whole public domain of every grouping set). */
export const MAX_DP_CELLS = 500_000;

const GEO_ORDER: readonly GeoLevel[] = ['district', 'street', 'community', 'grid'];

/**
 * The researcher's release (DESIGN §5, docs/privacy.md): differential privacy on every cell, then
 * the researcher's threshold and rounding as post-processing.
 *
 * - Cells are the *public domain* of the finest grouping set — every unit of the deepest geography
 *   level grouped on (from the reference geography) with its ancestors, every code of a category
 *   key, every label of a `bucket()` key, and NULL where a key may be null — with count 0 where
 *   nobody is: which cells appear never depends on the data. Refused (LAB-E124): a key without
 *   such a public value list, a key that may hold several values per person (tags; keys that vary
 *   within a person of a dataset with several rows per person), a measure without catalog bounds,
 *   distinct counts.
 * - Noise goes on the finest grouping set (all keys): a person is in exactly one of its cells, so
 *   the table costs ε. Within a cell the count and each sum or mean share ε (sequential). Counts:
 *   discrete Laplace, scale (1 + sums)/ε. Sums: each person's contribution rounded to a whole
 *   number and clamped to the catalog bounds in the query (CompileOptions.clampPerUnit), noise of
 *   scale max(|lower|, |upper|) × (1 + sums)/ε (sandbox/dp: exact sampler, crypto RNG).
 * - Every coarser grouping set is the sum of the noisy finest cells it rolls up: post-processing,
 *   so subtotals cost nothing more and add up. Then, still post-processing: negative counts → 0,
 *   noisy counts below the threshold suppressed (with their sums and means), counts rounded to the
 *   policy's rounding base, sums to whole numbers, means (noisy sum / noisy count) to one decimal.
 *   Nothing is compared with the true values.
 */
export function releaseWithDp(args: {
  table: AggregateTable;
  rel: Rel;
  rows: readonly RawRow[];
  geography: readonly GeoUnitRow[];
  params: StaffGuardParams;
  epsilon: string;
  rng?: Rng;
}): ReleasedTable {
  const { table } = args;
  const clamp = dpClampBounds(table);
  const sumMeasures = table.measures.filter((m) => m.kind === 'sum' || m.kind === 'mean');
  const keyNames = table.keys.map((k) => k.name);
  const unitUnique = aggregateOf(args.rel)?.unitUnique === true;
  const domains = new Map<string, readonly (string | null)[]>();
  for (const k of table.keys) {
    // One value per person, or a person could sit in several noisy cells and pay more than ε
    // (the same rule as the roll-up's setsKeepingMultiValued).
    if (k.column.multiValued === true || (!unitUnique && k.column.perUnit !== true)) {
      throw new LabError('LAB-E124', { detail: t(`分组键 ${k.name} 一人可有多个取值，差分隐私发布不支持`, `key ${k.name} may hold several values per person; not supported in a DP release`), field: k.name });
    }
    if (k.geoLevel) continue;
    const values = k.column.values ? Object.keys(k.column.values) : bucketLabels(args.rel, k.name);
    if (!values) {
      throw new LabError('LAB-E124', { detail: t(`分组键 ${k.name} 没有公开的取值表，无法做差分隐私发布`, `key ${k.name} has no public list of values, which a DP release needs`), field: k.name });
    }
    domains.set(k.name, [...values, null]);
  }

  const truth = new Map<string, { units: number; sums: Record<string, string> }>();
  for (const r of args.rows) {
    const g = Number(r[GROUPING_COLUMN] ?? 0);
    if (g !== 0) continue; // only the finest cells are noised; subtotals come from them
    const keys = keyNames.map((k) => (r[k] === null || r[k] === undefined ? null : String(r[k])));
    const sums: Record<string, string> = {};
    // A sum's column holds the sum of clamped per-person values; a mean's holds sum / count, so
    // the total is taken back as mean × persons (exact: both are integers underneath).
    for (const m of sumMeasures) {
      const v = r[m.name];
      const units = Number(r[UNITS_COLUMN] ?? 0);
      sums[m.name] = m.kind === 'sum' ? String(v ?? 0) : String(Math.round(Number(v ?? 0) * units));
    }
    truth.set(cellId(g, keys), { units: Number(r[UNITS_COLUMN] ?? 0), sums });
  }

  const byLevel = new Map<GeoLevel, GeoUnitRow[]>();
  const byCode = new Map<string, GeoUnitRow>();
  for (const u of args.geography) {
    byCode.set(u.code, u);
    const list = byLevel.get(u.level) ?? [];
    list.push(u);
    byLevel.set(u.level, list);
  }

  // Noise goes on the finest grouping set only (every key): a person is in exactly one of its
  // cells, so the whole table costs ε once. Every other grouping set is a roll-up of it and is
  // computed from the noisy cells (post-processing): subtotals add up, and cost nothing more.
  const K = keyNames.length;
  const finest = table.groupingSets.find((set) => set.length === K);
  if (!finest) {
    throw new LabError('LAB-E124', { detail: t('差分隐私发布需要包含全部分组键的明细层', 'a DP release needs the grouping set of all keys (the finest level)') });
  }
  const maskOf = (set: readonly string[]) => keyNames.reduce((mask, k, i) => (set.includes(k) ? mask : mask | (1 << (K - 1 - i))), 0);

  // The public domain of the finest level: units of the deepest geography level with their
  // ancestors, crossed with every value (and NULL) of the other keys.
  const geoKeys = table.keys.filter((k) => k.geoLevel);
  let finestCells: (string | null)[][] = [keyNames.map(() => null)];
  if (geoKeys.length > 0) {
    const deepest = geoKeys.reduce((x, y) => (GEO_ORDER.indexOf(y.geoLevel as GeoLevel) > GEO_ORDER.indexOf(x.geoLevel as GeoLevel) ? y : x));
    finestCells = (byLevel.get(deepest.geoLevel as GeoLevel) ?? []).map((u) => {
      const keys: (string | null)[] = keyNames.map(() => null);
      for (let at: GeoUnitRow | undefined = u; at; at = at.parent_code ? byCode.get(at.parent_code) : undefined) {
        const i = table.keys.findIndex((k) => k.geoLevel === at?.level);
        if (i >= 0) keys[i] = at.code;
      }
      return keys;
    });
  }
  for (const k of table.keys) {
    if (k.geoLevel) continue;
    const i = keyNames.indexOf(k.name);
    const values = domains.get(k.name) ?? [null];
    if (finestCells.length * values.length > MAX_DP_CELLS) {
      throw new LabError('LAB-E124', { detail: t(`差分隐私发布需枚举全部单元格，超过 ${MAX_DP_CELLS} 个`, `a DP release enumerates every cell of the public domain: more than ${MAX_DP_CELLS}`) });
    }
    finestCells = finestCells.flatMap((p) => values.map((v) => { const q = [...p]; q[i] = v; return q; }));
  }

  const finestMask = maskOf(finest);
  // Within a cell the count and every sum are about the same persons: they share ε (sequential).
  const share = formatRational(div(parseRational(args.epsilon, 'epsilon', 'LAB-E120'), rational(BigInt(1 + sumMeasures.length))));
  const inputs: TableCellInput[] = finestCells.map((keys) => {
    const cell = truth.get(cellId(finestMask, keys));
    return {
      level: 'finest', key: JSON.stringify(keys), count: cell?.units ?? 0,
      ...(sumMeasures.length ? { sums: Object.fromEntries(sumMeasures.map((m) => [m.name, cell?.sums[m.name] ?? '0'])) } : {}),
    };
  });
  const noisy = noiseTable(inputs, {
    count: { mechanism: 'laplace', epsilon: share },
    ...(sumMeasures.length ? { sums: Object.fromEntries(sumMeasures.map((m) => {
      const [lower, upper] = clamp[m.name] ?? [0, 0];
      return [m.name, { bounds: { lower, upper }, privacy: { mechanism: 'laplace' as const, epsilon: share } }];
    })) } : {}),
    nonNegativeCounts: false,
  }, args.rng ? { rng: args.rng } : {});

  // Every grouping set: the sum of the noisy finest cells it rolls up (in the order of the sets).
  const out: { grouping: number; keys: (string | null)[]; value: number; sums: Record<string, number> }[] = [];
  for (const set of table.groupingSets) {
    const mask = maskOf(set);
    const cells = new Map<string, { keys: (string | null)[]; value: number; sums: Record<string, number> }>();
    finestCells.forEach((keys, i) => {
      const projected = keys.map((v, j) => (set.includes(keyNames[j] as string) ? v : null));
      const id = JSON.stringify(projected);
      const cell = cells.get(id) ?? { keys: projected, value: 0, sums: {} };
      const n = noisy.cells[i];
      cell.value += n?.count?.value ?? 0;
      for (const m of sumMeasures) cell.sums[m.name] = (cell.sums[m.name] ?? 0) + (n?.sums[m.name]?.value ?? 0);
      cells.set(id, cell);
    });
    for (const c of cells.values()) out.push({ grouping: mask, keys: c.keys, value: c.value, sums: c.sums });
  }

  const { threshold, rounding } = args.params;
  let suppressed = 0;
  const rows = out.map((c) => {
    const value = Math.max(0, c.value);
    const sup = value < threshold;
    if (sup) suppressed += 1;
    const values = table.measures.map((m): number | null => {
      if (sup) return null;
      if (m.kind === 'sum') return Math.round(c.sums[m.name] ?? 0);
      if (m.kind === 'mean') return Math.round(((c.sums[m.name] ?? 0) / value) * 10) / 10; // noisy sum / noisy count
      return Math.round(value / rounding) * rounding;
    });
    return { keys: c.keys, grouping: c.grouping, values, suppressed: sup, rounded: !sup, allOfParent: false };
  });
  return {
    columns: [
      ...table.keys.map((k) => ({ name: k.name, role: 'key' as const, ...(k.column.label ? { label: k.column.label } : {}), ...(k.geoLevel ? { geoLevel: k.geoLevel } : {}) })),
      ...table.measures.map((m) => ({ name: m.name, role: 'measure' as const, label: m.label, measure: m.kind })),
    ],
    rows,
    guard: {
      rule: 'researcher-dp', threshold, rounding, cells: rows.length, suppressed,
      dp: { mechanism: 'discrete-laplace', epsilon: args.epsilon, noisyCells: finestCells.length, scale: formatRational(div(rational(1n), parseRational(args.epsilon, 'epsilon', 'LAB-E120'))) },
    },
  };
}

/**
 * The clamping bounds of each sum or mean measure for a DP release: the catalog's bounds of the
 * measured column, made whole numbers inward. A measure without bounds cannot be released with DP.
 */
export function dpClampBounds(table: AggregateTable): Record<string, readonly [number, number]> {
  const out: Record<string, readonly [number, number]> = {};
  for (const m of table.measures) {
    if (m.kind !== 'sum' && m.kind !== 'mean') continue;
    const b = m.column?.bounds;
    if (!b) {
      throw new LabError('LAB-E124', { detail: t(`度量 ${m.name} 没有目录中的取值范围，无法做差分隐私发布`, `measure ${m.name} has no bounds in the catalog, which a DP release needs`), field: `measures.${m.name}` });
    }
    out[m.name] = [Math.ceil(b[0]), Math.floor(b[1])];
  }
  for (const m of table.measures) {
    if (m.kind === 'count_distinct') {
      throw new LabError('LAB-E124', { detail: t(`差分隐私发布不支持去重计数（${m.name}）`, `count_distinct is not supported in a DP release (${m.name})`), field: `measures.${m.name}` });
    }
  }
  return out;
}

function aggregateOf(r: Rel): Extract<Rel, { kind: 'aggregate' }> | undefined {
  switch (r.kind) {
    case 'aggregate': return r;
    case 'scan': case 'union': case 'join': return undefined;
    case 'filter': case 'derive': case 'exists': case 'tag': case 'member': case 'face': return aggregateOf(r.input);
  }
}

function cellId(grouping: number, keys: readonly (string | null)[]): string {
  return `${grouping}|${JSON.stringify(keys)}`;
}

/** The labels of a key derived by `bucket(x, b1, …, bn)` (the compiler's labels), or undefined. */
export function bucketLabels(rel: Rel, name: string): string[] | undefined {
  const find = (r: Rel): Expr | undefined => {
    switch (r.kind) {
      case 'scan': return undefined;
      case 'derive': {
        const d = r.columns.find((c) => c.name === name);
        return d ? d.expr.expr : find(r.input);
      }
      case 'join': return find(r.left) ?? find(r.right);
      case 'union': return undefined;
      case 'filter': case 'exists': case 'tag': case 'aggregate': case 'member': case 'face': return find(r.input);
    }
  };
  const e = find(rel);
  if (!e || e.kind !== 'call' || e.name !== 'bucket') return undefined;
  const bounds: number[] = [];
  for (const a of e.args.slice(1)) {
    if (a.kind === 'literal' && typeof a.value === 'number') bounds.push(a.value);
    else if (a.kind === 'unary' && a.op === '-' && a.operand.kind === 'literal' && typeof a.operand.value === 'number') bounds.push(-a.operand.value);
    else return undefined;
  }
  const labels: string[] = [];
  for (let i = 1; i < bounds.length; i++) {
    const lo = bounds[i - 1] as number;
    const hi = bounds[i] as number;
    labels.push(hi - lo === 1 ? `${lo}` : `${lo}-${hi - 1}`);
  }
  labels.push(`${bounds[bounds.length - 1] as number}+`);
  return labels;
}
