import type { Rel } from './rel.ts';

/**
 * Where a plan node came from: the pipeline node and the parameter that made it. Kept beside the
 * plan (plan nodes stay plain data), so that a check that runs on the plan inside a domain can
 * name the node and field of the analyst's pipeline in its error.
 */
export interface PlanOrigin {
  readonly nodeId: string;
  readonly field: string;
}

const origins = new WeakMap<Rel, PlanOrigin | readonly PlanOrigin[]>();

/** Records the origin of a filter node (its condition) and returns the node. */
export function withOrigin<R extends Rel>(r: R, origin: PlanOrigin): R {
  origins.set(r, origin);
  return r;
}

/** Records the origins of a derive node, one per derived column, in the node's column order. */
export function withColumnOrigins<R extends Rel>(r: R, perColumn: readonly PlanOrigin[]): R {
  origins.set(r, perColumn);
  return r;
}

/** The origin of a plan node (for a derive node, of its `column`-th column), if it was recorded. */
export function originOf(r: Rel, column?: number): PlanOrigin | undefined {
  const o = origins.get(r);
  if (o === undefined) return undefined;
  if ('nodeId' in o) return o as PlanOrigin;
  const list = o as readonly PlanOrigin[];
  return column === undefined ? undefined : list[column];
}
