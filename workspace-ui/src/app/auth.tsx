import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, get, onUnauthorized, post, setCsrfToken } from '../api/client.ts';
import type { SessionInfo, User } from '../api/types.ts';

interface AuthState {
  /** undefined while the session is being checked; null when signed out. */
  readonly user: User | null | undefined;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<AuthState | undefined>(undefined);

/** The signed-in user from GET /api/auth/me (the session cookie is HttpOnly; the CSRF token comes back in the body). */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    let live = true;
    get<SessionInfo>('/api/auth/me').then(
      (s) => { if (!live) return; setCsrfToken(s.csrfToken); setUser(s.user); },
      (e: unknown) => { if (!live) return; if (!(e instanceof ApiError) || e.status !== 401) console.warn('session check failed', e); setUser(null); },
    );
    const off = onUnauthorized(() => { setCsrfToken(undefined); setUser(null); });
    return () => { live = false; off(); };
  }, []);

  const signIn = useCallback(async (username: string, password: string) => {
    const s = await post<SessionInfo>('/api/auth/login', { username, password });
    setCsrfToken(s.csrfToken);
    setUser(s.user);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await post<undefined>('/api/auth/logout');
    } finally {
      setCsrfToken(undefined);
      setUser(null);
    }
  }, []);

  const value = useMemo(() => ({ user, signIn, signOut }), [user, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}
