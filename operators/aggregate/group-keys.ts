import { LabError, t } from '../../sandbox/errors/index.ts';
import { maxClassification } from '../../sandbox/domains/catalog/types.ts';
import type { AggregateTable, RowsRelation, TableKey, TableMeasure } from '../../sandbox/pipeline/relation.ts';
import { columnOf, refuseIdentifierKey } from '../operator-helpers.ts';

/** Non-geography group keys may have at most this many levels (DataSHIELD nfilter.levels.max). */
export const MAX_KEY_LEVELS = 40;

/**
 * Checks the columns a table is grouped by: listed once, present, never an identifier (I3), at most
 * MAX_KEY_LEVELS values when the catalog knows them (the guard checks the rest at run time).
 * `geography: 'refuse'` is for keys crossed with a roll-up that already holds the geography.
 */
export function resolveGroupKeys(nodeId: string, input: RowsRelation, names: readonly string[], field: string, geography: 'allow' | 'refuse'): TableKey[] {
  if (new Set(names).size !== names.length) throw new LabError('LAB-E064', { detail: t('分组列重复', 'a group column is listed twice'), nodeId, field });
  return names.map((name, i) => {
    const at = `${field}.${i}`;
    const col = columnOf(nodeId, at, input, name);
    refuseIdentifierKey(nodeId, at, col);
    if (col.geoLevel && geography === 'refuse') {
      throw new LabError('LAB-E003', { detail: t(`${name} 是地理列，已包含在逐级汇总中`, `${name} is a geography column; the roll-up already has it`), nodeId, field: at });
    }
    if (!col.geoLevel && col.values && Object.keys(col.values).length > MAX_KEY_LEVELS) {
      throw new LabError('LAB-E065', { detail: t(`列 ${name} 的取值超过 ${MAX_KEY_LEVELS} 个`, `column ${name} has more than ${MAX_KEY_LEVELS} levels`), nodeId, field: at });
    }
    return { name, column: col, ...(col.geoLevel ? { geoLevel: col.geoLevel } : {}) };
  });
}

/** The aggregate table a statistics operator produces: as sensitive as its keys and measured columns. */
export function aggregateTable(input: RowsRelation, keys: readonly TableKey[], measures: readonly TableMeasure[], groupingSets: readonly (readonly string[])[]): AggregateTable {
  return {
    kind: 'table', domain: input.domain, keys, measures, groupingSets,
    unitKind: input.unit.kind,
    level: maxClassification(...keys.map((k) => k.column.level), ...measures.map((m) => m.column?.level ?? 'L1')),
    datasets: input.datasets,
  };
}

/**
 * The grouping sets that keep every multi-valued key (a tag column): each tag gets its own
 * subtotals, never one across tags, which would not be the sum of its cells (a person with two
 * tags counts once there, and nested tags such as hypertension within chronic_any would give a
 * suppressed cell away). The full grouping set always stays.
 *
 * When a person can have several rows (the unit is not unique), so is every key without one value
 * per person (`perUnit`): a person with two chronic conditions counts once in a total across
 * conditions, a tenant of houses in two districts once in the city total.
 */
export function setsKeepingMultiValued(input: RowsRelation, keys: readonly string[], sets: readonly (readonly string[])[]): string[][] {
  const multi = keys.filter((k) => {
    const c = input.columns.find((x) => x.name === k);
    return c?.multiValued === true || (input.unit.unique !== true && c?.perUnit !== true);
  });
  return sets.filter((set) => multi.every((m) => set.includes(m))).map((set) => [...set]);
}
