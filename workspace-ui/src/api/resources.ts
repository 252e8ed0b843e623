/** Read-only resources every page shares (catalog, geography, operator registry), fetched once per session. */
import { useEffect, useState } from 'react';
import { get, onUnauthorized } from './client.ts';
import type { Catalog, GeoUnit, OperatorRegistry } from './types.ts';

const cache = new Map<string, Promise<unknown>>();
onUnauthorized(() => { cache.clear(); });

export function load<T>(path: string): Promise<T> {
  let p = cache.get(path) as Promise<T> | undefined;
  if (!p) {
    p = get<T>(path);
    cache.set(path, p);
    p.catch(() => { cache.delete(path); });
  }
  return p;
}

export interface Resource<T> { readonly data: T | undefined; readonly error: unknown; readonly reload: () => void }

export function useResource<T>(path: string | undefined): Resource<T> {
  const [state, setState] = useState<{ path?: string; data?: T; error?: unknown }>({});
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    load<T>(path).then((data) => { if (live) setState({ path, data }); }, (error: unknown) => { if (live) setState({ path, error }); });
    return () => { live = false; };
  }, [path, attempt]);
  const current = state.path === path;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, reload: () => { cache.delete(path ?? ''); setAttempt((a) => a + 1); } };
}

export const useCatalog = () => useResource<Catalog>('/api/catalog');
export const useGeography = (enabled = true) => useResource<{ units: GeoUnit[] }>(enabled ? '/api/catalog/geography' : undefined);
export const useOperators = () => useResource<OperatorRegistry>('/api/operators');
