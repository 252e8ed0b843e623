import type { z } from 'zod';
import type { Bilingual } from '../sandbox/domains/catalog/types.ts';
import type { Rel } from '../sandbox/ir/rel.ts';
import type { PortType, PortValue } from '../sandbox/pipeline/relation.ts';

/** How the UI renders a parameter beyond what its zod type says. */
export type UiHint =
  | { readonly widget: 'expression'; readonly placeholder?: Bilingual }
  | { readonly widget: 'dataset' }
  | { readonly widget: 'column'; readonly port: string; readonly multiple?: boolean }
  | { readonly widget: 'tags' }
  | { readonly widget: 'text' };

export interface InferArgs<P> {
  readonly nodeId: string;
  readonly params: P;
  readonly inputs: Readonly<Record<string, PortValue>>;
}

export interface PlanArgs<P> {
  readonly nodeId: string;
  readonly params: P;
  readonly inputs: Readonly<Record<string, Rel>>;
  readonly inferredInputs: Readonly<Record<string, PortValue>>;
}

/**
 * An operator: a self-describing module (identity, labels, parameter schema, typed ports, schema
 * inference, the policy action it needs, its plan as IR). Parameters are typed by the zod schema
 * (`z.infer`), never read by cast.
 */
export interface OperatorSpec<S extends z.ZodType = z.ZodType> {
  readonly id: string;
  readonly version: number;
  readonly label: Bilingual;
  readonly help: Bilingual;
  readonly category: 'source' | 'transform' | 'statistics' | 'output';
  readonly params: S;
  readonly ui?: Readonly<Record<string, UiHint>>;
  readonly inputs: Readonly<Record<string, PortType>>;
  readonly outputs: Readonly<Record<string, PortType>>;
  /** The policy action a run of this operator needs (decided by the policy engine). */
  readonly policyAction: 'read-dataset' | 'transform' | 'aggregate' | 'release';
  infer(args: InferArgs<z.infer<S>>): Record<string, PortValue>;
  plan(args: PlanArgs<z.infer<S>>): Record<string, Rel>;
}

export function defineOperator<S extends z.ZodType>(spec: OperatorSpec<S>): OperatorSpec<S> {
  if (!/^[a-z][a-z0-9-]{0,47}$/.test(spec.id) || !Number.isInteger(spec.version) || spec.version < 1) {
    throw new Error(`bad operator identity ${spec.id}@${spec.version}`);
  }
  return Object.freeze(spec);
}

/** Type-erased form kept in the registry; parameters are parsed by `params` before use. */
export type AnyOperator = OperatorSpec<z.ZodType>;
