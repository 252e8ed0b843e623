import type { DomainId } from '../domains/domain-ids.ts';
import type { Checked } from '../expr/check.ts';
import type { MeasureKind } from '../pipeline/relation.ts';

/**
 * Relational plan nodes: small immutable objects (`{ kind, … }`), built by operators, compiled by
 * sandbox/compile. They name catalog tables and columns; they never hold SQL text.
 */
export type Rel =
  | { readonly kind: 'scan'; readonly domain: DomainId; readonly table: string; readonly columns: readonly string[] }
  | { readonly kind: 'filter'; readonly input: Rel; readonly predicate: Checked }
  | { readonly kind: 'derive'; readonly input: Rel; readonly columns: readonly { readonly name: string; readonly expr: Checked }[] }
  | { readonly kind: 'exists'; readonly input: Rel; readonly name: string; readonly unitColumn: string; readonly table: string; readonly tableUnitColumn: string; readonly predicate: Checked | undefined }
  | { readonly kind: 'join'; readonly joinType: 'inner' | 'left' | 'semi' | 'anti'; readonly left: Rel; readonly right: Rel; readonly leftKey: string; readonly rightKey: string; readonly rightColumns: readonly { readonly from: string; readonly as: string }[]; readonly alsoKeys?: readonly JoinAlsoKey[] }
  | { readonly kind: 'aggregate'; readonly input: Rel; readonly keys: readonly string[]; readonly groupingSets: readonly (readonly string[])[]; readonly measures: readonly AggMeasure[]; readonly unitColumn: string; readonly unitUnique: boolean }
  /** One output row per input row and matching tag: the input's columns plus `column` holding the tag id. */
  | { readonly kind: 'tag'; readonly input: Rel; readonly column: string; readonly tags: readonly TagRule[] }
  /** The rows of every input, one after the other (UNION ALL), with the given columns (all inputs have them). */
  | { readonly kind: 'union'; readonly inputs: readonly Rel[]; readonly columns: readonly string[] }
  /**
   * The input rows whose key is (`negate`: is not) among the members a protocol step wrote into this
   * domain's `lab_psi_member` for the running job (sandbox/plan: cross-domain semi/anti joins).
   * With `alsoKeys` the item is the composite of the key and those columns (protocolItemSql).
   */
  | { readonly kind: 'member'; readonly input: Rel; readonly key: string; readonly stepId: string; readonly negate: boolean; readonly alsoKeys?: readonly string[] }
  /**
   * The input rows (grid visits) with `column` holding the outcome of an encrypted face comparison
   * step (`face-compare`, operators/face-verify): what the step wrote into this domain's
   * `lab_face_outcome` for the row's `key` in the running job, else 'unusable'. The template column
   * is used by the step and dropped here (L4: never output).
   */
  | { readonly kind: 'face'; readonly input: Rel; readonly stepId: string; readonly face: FaceCompareSpec; readonly column: string };

/**
 * A further pair of columns a join matches on besides its key (`l.left = r.right`). Across domains
 * they become part of the protocol item (`ID number ‖ district code`), built in SQL on each side and
 * never a column of any relation, so it can be neither grouped on nor output.
 */
export interface JoinAlsoKey {
  readonly left: string;
  readonly right: string;
}

/** What a face comparison step compares: the columns of its visits and the model and threshold. */
export interface FaceCompareSpec {
  /** The row's own key (the visit number): outcomes are written and read by it. */
  readonly key: string;
  /** The lookup key the reference holder finds the reference by (the ID number). */
  readonly lookup: string;
  readonly template: string;
  readonly modelColumn: string;
  readonly unusableColumn: string;
  readonly modelId: string;
  readonly dimension: number;
  readonly threshold: number;
}

/** A tag of the tag library as the plan holds it: its id (a value, bound as a parameter) and its checked rule. */
export interface TagRule {
  readonly id: string;
  readonly rule: Checked;
}

export interface AggMeasure {
  readonly name: string;
  readonly kind: MeasureKind;
  readonly column?: string;
}

export const rel = {
  scan: (domain: DomainId, table: string, columns: readonly string[]): Rel => Object.freeze({ kind: 'scan', domain, table, columns }),
  filter: (input: Rel, predicate: Checked): Rel => Object.freeze({ kind: 'filter', input, predicate }),
  derive: (input: Rel, columns: readonly { name: string; expr: Checked }[]): Rel => Object.freeze({ kind: 'derive', input, columns }),
  exists: (input: Rel, name: string, unitColumn: string, table: string, tableUnitColumn: string, predicate: Checked | undefined): Rel =>
    Object.freeze({ kind: 'exists', input, name, unitColumn, table, tableUnitColumn, predicate }),
  join: (joinType: 'inner' | 'left' | 'semi' | 'anti', left: Rel, right: Rel, leftKey: string, rightKey: string, rightColumns: readonly { from: string; as: string }[], alsoKeys: readonly JoinAlsoKey[] = []): Rel =>
    Object.freeze({ kind: 'join', joinType, left, right, leftKey, rightKey, rightColumns, ...(alsoKeys.length > 0 ? { alsoKeys: Object.freeze(alsoKeys.map((a) => Object.freeze({ ...a }))) } : {}) }),
  aggregate: (input: Rel, keys: readonly string[], groupingSets: readonly (readonly string[])[], measures: readonly AggMeasure[], unitColumn: string, unitUnique: boolean): Rel =>
    Object.freeze({ kind: 'aggregate', input, keys, groupingSets, measures, unitColumn, unitUnique }),
  tag: (input: Rel, column: string, tags: readonly TagRule[]): Rel => Object.freeze({ kind: 'tag', input, column, tags }),
  union: (inputs: readonly Rel[], columns: readonly string[]): Rel => Object.freeze({ kind: 'union', inputs, columns }),
  member: (input: Rel, key: string, stepId: string, negate: boolean, alsoKeys: readonly string[] = []): Rel =>
    Object.freeze({ kind: 'member', input, key, stepId, negate, ...(alsoKeys.length > 0 ? { alsoKeys: Object.freeze([...alsoKeys]) } : {}) }),
  face: (input: Rel, stepId: string, face: FaceCompareSpec, column: string): Rel => Object.freeze({ kind: 'face', input, stepId, face: Object.freeze({ ...face }), column }),
};

/** The protocol steps whose results a plan reads (its `member` and `face` nodes), in order of appearance. */
export function memberSteps(r: Rel): string[] {
  const out = new Set<string>();
  const walk = (x: Rel): void => {
    switch (x.kind) {
      case 'scan': return;
      case 'member': case 'face': out.add(x.stepId); walk(x.input); return;
      case 'filter': case 'derive': case 'exists': case 'aggregate': case 'tag': walk(x.input); return;
      case 'join': walk(x.left); walk(x.right); return;
      case 'union': for (const i of x.inputs) walk(i); return;
    }
  };
  walk(r);
  return [...out];
}

/** The domain every scan under a node reads; undefined when they differ (a cross-domain plan). */
export function domainOf(r: Rel): DomainId | undefined {
  switch (r.kind) {
    case 'scan': return r.domain;
    case 'filter': case 'derive': case 'exists': case 'aggregate': case 'tag': case 'member': case 'face': return domainOf(r.input);
    case 'join': {
      const l = domainOf(r.left);
      return l !== undefined && l === domainOf(r.right) ? l : undefined;
    }
    case 'union': {
      const ds = new Set(r.inputs.map(domainOf));
      const [only] = ds;
      return ds.size === 1 ? only : undefined;
    }
  }
}
