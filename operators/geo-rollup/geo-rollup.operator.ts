import { z } from 'zod';
import { GEO_LEVELS, type GeoLevel } from '../../sandbox/domains/catalog/types.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { rel } from '../../sandbox/ir/rel.ts';
import type { RowsRelation, TableKey } from '../../sandbox/pipeline/relation.ts';
import { cube } from '../aggregate/aggregate.operator.ts';
import { aggregateTable, resolveGroupKeys, setsKeepingMultiValued } from '../aggregate/group-keys.ts';
import { measureSchema, resolveMeasures } from '../aggregate/measures.ts';
import { defineOperator } from '../define-operator.ts';
import { rowsInput } from '../operator-helpers.ts';

const params = z.object({
  /** From district down to this level: subtotals at every level above it and a city total. */
  depth: z.enum(['district', 'street', 'community', 'grid']).default('grid'),
  /** Geography columns prefix: '' for district_code …, 'work_' for work_district_code … */
  prefix: z.enum(['', 'work_']).default(''),
  by: z.array(z.string().max(63)).max(3).default([]),
  measures: z.array(measureSchema).min(1).max(4).default([{ kind: 'count_persons' }]),
}).strict();

const levelsTo = (depth: GeoLevel) => GEO_LEVELS.slice(0, GEO_LEVELS.indexOf(depth) + 1);

function geoKeys(nodeId: string, input: RowsRelation, depth: GeoLevel, prefix: string): TableKey[] {
  return levelsTo(depth).map((level) => {
    const name = `${prefix}${level}_code`;
    const col = input.columns.find((c) => c.name === name);
    if (!col || col.geoLevel !== level) {
      throw new LabError('LAB-E052', { detail: t(`输入没有地理列 ${name}`, `the input has no geography column ${name}`), nodeId, field: 'params.prefix' });
    }
    return { name, geoLevel: level, column: col };
  });
}

/** Grouping sets: every prefix of the geography (city total included) × every margin of `by`. */
export function rollupSets(geo: readonly string[], by: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = geo.length; i >= 0; i--) for (const b of cube(by)) out.push([...geo.slice(0, i), ...b]);
  return out;
}

export const geoRollup = defineOperator({
  id: 'geo-rollup', version: 1,
  label: { zh: '逐级汇总', en: 'Geography roll-up' },
  help: {
    zh: '按 区 → 街道（镇）→ 社区（村）→ 网格 逐级汇总，每一级及全市都有小计，可再按户口类型、性别、年龄段等交叉。',
    en: 'Roll up district → street → community → grid with subtotals at every level and a city total, optionally crossed by household type, sex, age band …',
  },
  category: 'statistics',
  params,
  ui: { by: { widget: 'column', port: 'rows', multiple: true } },
  inputs: { rows: 'rows' },
  outputs: { table: 'table' },
  policyAction: 'aggregate',
  infer: ({ nodeId, params: p, inputs }) => {
    const input = rowsInput(nodeId, inputs, 'rows');
    const geo = geoKeys(nodeId, input, p.depth, p.prefix);
    const by = resolveGroupKeys(nodeId, input, p.by, 'params.by', 'refuse');
    const measures = resolveMeasures(nodeId, input, p.measures, 'params.measures');
    const keys = [...geo, ...by];
    return {
      table: aggregateTable(input, keys, measures.table, setsKeepingMultiValued(input, p.by, rollupSets(geo.map((g) => g.name), p.by))),
    };
  },
  plan: ({ nodeId, params: p, inputs, inferredInputs }) => {
    const input = rowsInput(nodeId, inferredInputs, 'rows');
    const r = inputs['rows'];
    if (!r) throw new Error('geo-rollup planned without input');
    const geo = geoKeys(nodeId, input, p.depth, p.prefix).map((g) => g.name);
    const measures = resolveMeasures(nodeId, input, p.measures, 'params.measures');
    return { table: rel.aggregate(r, [...geo, ...p.by], setsKeepingMultiValued(input, p.by, rollupSets(geo, p.by)), measures.ir, input.unit.column, input.unit.unique === true) };
  },
});
