// The browser session: asks whoami once, feeds the session state machine (lib/auth.ts) with the
// API client's refused requests, and offers sign-in / sign-out to the pages. Thin by design:
// every decision is in lib/auth.ts and lib/permissions.ts.
import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, type ReactNode } from 'react';
import { api, ApiError, onAuthFailure } from '../api/client';
import type { WhoAmI } from '../api/types';
import { authReducer, OPEN_SERVER, type AuthState } from '../lib/auth';
import { needsSignIn } from '../lib/permissions';

export interface AuthValue {
  state: AuthState;
  /** Who the pages act for, once known (null while checking or signed out). */
  me: WhoAmI | null;
  /** Throws the ApiError of a refused key. */
  signIn: (key: string) => Promise<void>;
  signOut: () => Promise<void>;
  retry: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside <AuthProvider>');
  return v;
}

/** The current credential, for hiding what it may not do (null: nobody signed in). */
export function useMe(): WhoAmI | null {
  return useAuth().me;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, dispatch] = useReducer(authReducer, { phase: 'checking' });

  const check = useCallback(() => {
    api
      .whoami()
      .then((me) => dispatch({ type: 'whoami', me }))
      .catch((e: Error) =>
        dispatch(e instanceof ApiError && e.status === 404 ? { type: 'whoami', me: OPEN_SERVER } : { type: 'unreachable', message: e.message }),
      );
  }, []);
  useEffect(check, [check]);

  // A 403 asks whoami whether the session is still there; many refused requests at once make one
  // check. A session the server no longer knows is dropped (DELETE clears the HttpOnly cookie,
  // which scripts cannot) before the sign-in page shows, so the stale cookie is not sent again.
  const checking = useRef(false);
  useEffect(
    () =>
      onAuthFailure((kind) => {
        if (kind === 'session_lost') {
          dispatch({ type: 'session_lost' });
          return;
        }
        if (checking.current) return;
        checking.current = true;
        api
          .whoami()
          .then(async (me) => {
            if (needsSignIn(me)) await api.signOut().catch(() => undefined);
            dispatch({ type: 'whoami', me });
          })
          .catch(() => undefined) // unreachable: the page shows its own error
          .finally(() => {
            checking.current = false;
          });
      }),
    [],
  );

  const signIn = useCallback(async (key: string) => {
    const me = await api.signIn(key);
    dispatch({ type: 'whoami', me });
  }, []);
  const signOut = useCallback(async () => {
    await api.signOut();
    dispatch({ type: 'signed_out' });
  }, []);

  const value = useMemo<AuthValue>(
    () => ({ state, me: state.phase === 'ready' ? state.me : null, signIn, signOut, retry: check }),
    [state, signIn, signOut, check],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
