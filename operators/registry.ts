import type { AnyOperator } from './define-operator.ts';
import { aggregate } from './aggregate/aggregate.operator.ts';
import { derive } from './derive/derive.operator.ts';
import { faceVerify } from './face-verify/face-verify.operator.ts';
import { filter } from './filter/filter.operator.ts';
import { followUp } from './follow-up/follow-up.operator.ts';
import { geoRollup } from './geo-rollup/geo-rollup.operator.ts';
import { join } from './join/join.operator.ts';
import { output } from './output/output.operator.ts';
import { source } from './source/source.operator.ts';
import { tag } from './tag/tag.operator.ts';
import { union } from './union/union.operator.ts';

/** The explicit list of operators. Adding an operator = one module + one line here. */
const ALL: readonly AnyOperator[] = [source, filter, derive, join, aggregate, geoRollup, output, tag, union, followUp, faceVerify] as unknown as readonly AnyOperator[];

const byRef = new Map<string, AnyOperator>();
for (const op of ALL) {
  const ref = `${op.id}@${op.version}`;
  if (byRef.has(ref)) throw new Error(`operator ${ref} registered twice`);
  byRef.set(ref, op);
}

export const OPERATORS: readonly AnyOperator[] = ALL;
export const findOperator = (ref: string): AnyOperator | undefined => byRef.get(ref);
