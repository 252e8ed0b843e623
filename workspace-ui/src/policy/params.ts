/** The disclosure parameters as a tree the form walks, and immutable updates of it. Pure. */

export type ParamTree = { readonly [key: string]: unknown };

export const isTree = (v: unknown): v is ParamTree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `tree` with the value at `path` replaced (objects on the way copied, the rest shared). */
export function setAt(tree: ParamTree, path: readonly string[], value: unknown): ParamTree {
  const [head, ...rest] = path;
  if (head === undefined) return tree;
  const child = tree[head];
  return { ...tree, [head]: rest.length === 0 ? value : setAt(isTree(child) ? child : {}, rest, value) };
}

/** Paths (dot-joined) whose value differs between two trees, leaves only. */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isTree(a) && isTree(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}
