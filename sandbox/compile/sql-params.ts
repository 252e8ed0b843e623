import type { ExprType } from '../expr/types.ts';

const CAST: Record<Exclude<ExprType, 'null'>, string> = {
  int: 'bigint', numeric: 'numeric', text: 'text', date: 'date', boolean: 'boolean',
};

/** Collects bind parameters: user values only ever reach SQL as `$n` placeholders. */
export class SqlParams {
  readonly values: (string | number | boolean)[] = [];

  /** Adds a value and returns its typed placeholder, e.g. `$3::date`. */
  add(value: string | number | boolean, type: Exclude<ExprType, 'null'>): string {
    this.values.push(value);
    return `$${this.values.length}::${CAST[type]}`;
  }
}
