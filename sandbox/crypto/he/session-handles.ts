/**
 * The SEAL objects that hold a key holder's key material, kept aside so that the tests can check
 * that dispose() really freed them (a freed node-seal object has no `instance` any more).
 */
export interface SealHandle { readonly instance: unknown }

const handles = new WeakMap<object, readonly SealHandle[]>();

export function registerHandles(owner: object, list: readonly SealHandle[]): void {
  handles.set(owner, list);
}

/** How many of the owner's key-material objects are still allocated in SEAL. */
export function liveHandleCount(owner: object): number {
  return (handles.get(owner) ?? []).filter((h) => h.instance !== undefined && h.instance !== null).length;
}
