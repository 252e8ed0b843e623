/** Data that changes while the page is open (inbox, audit, budgets): fetched on mount and on `reload`, never cached. */
import { useCallback, useEffect, useState } from 'react';
import { get } from './client.ts';

export interface Fetched<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  readonly reload: () => void;
}

export function useFetch<T>(path: string | undefined): Fetched<T> {
  const [state, setState] = useState<{ path?: string; data?: T; error?: unknown; loading: boolean }>({ loading: false });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    get<T>(path).then(
      (data) => { if (live) setState({ path, data, loading: false }); },
      (error: unknown) => { if (live) setState({ path, error, loading: false }); },
    );
    return () => { live = false; };
  }, [path, attempt]);
  const reload = useCallback(() => { setAttempt((a) => a + 1); }, []);
  const current = state.path === path;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: state.loading, reload };
}
