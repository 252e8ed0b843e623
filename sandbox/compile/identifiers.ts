/**
 * The one sanitiser through which identifiers become SQL text. Names must already be known to the
 * catalog or be names the planner made; anything else is refused (it is a bug if it ever happens).
 */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`refusing SQL identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A qualified column reference `"rel"."col"`. */
export const qualified = (relation: string, column: string) => `${ident(relation)}.${ident(column)}`;
