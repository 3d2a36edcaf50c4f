import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Role, Session } from '../../../src/protocol/management-api.js';
import { ApiError, createApiClient } from '../api/client.js';
import { createEndpoints, type Endpoints } from '../api/endpoints.js';

/**
 * Who is signed in, the API bound to that session (its CSRF token), and what the role allows.
 * Buttons that change something are shown only to roles that may press them; the server
 * enforces the same rules (a hidden button is courtesy, not security).
 */

export type SessionState =
  | { kind: 'loading' }
  /** the server could not be asked (down, network): shown with a retry */
  | { kind: 'unreachable'; error: ApiError }
  | { kind: 'signed-out'; setupNeeded: boolean; expired: boolean }
  | { kind: 'signed-in'; session: Session };

interface SessionValue {
  state: SessionState;
  api: Endpoints;
  /** a raw request (an upload) needs these headers to pass the CSRF check */
  writeHeaders: () => Record<string, string>;
  login: (username: string, password: string) => Promise<void>;
  setup: (setupToken: string, username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  retry: () => void;
  /** the server said 401 somewhere other than a REST call (the live stream): show the login */
  expire: () => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const csrf = useRef<string | undefined>(undefined);

  const expire = useCallback(() => {
    csrf.current = undefined;
    setState({ kind: 'signed-out', setupNeeded: false, expired: true });
  }, []);
  const client = useMemo(() => createApiClient({ csrfToken: () => csrf.current, onUnauthorized: expire }), [expire]);
  const api = useMemo(() => createEndpoints(client), [client]);

  const signedIn = useCallback((session: Session) => {
    csrf.current = session.csrfToken;
    setState({ kind: 'signed-in', session });
  }, []);

  const probe = useCallback(async () => {
    setState({ kind: 'loading' });
    try {
      signedIn(await api.auth.me());
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status !== 401) return setState({ kind: 'unreachable', error: err });
      try {
        const { needed } = await api.auth.setupStatus();
        setState({ kind: 'signed-out', setupNeeded: needed, expired: false });
      } catch (setupErr) {
        if (!(setupErr instanceof ApiError)) throw setupErr;
        setState({ kind: 'unreachable', error: setupErr });
      }
    }
  }, [api, signedIn]);

  useEffect(() => {
    void probe();
  }, [probe]);

  const value = useMemo<SessionValue>(
    () => ({
      state,
      api,
      writeHeaders: client.writeHeaders,
      login: async (username, password) => signedIn(await api.auth.login(username, password)),
      setup: async (setupToken, username, password) =>
        signedIn(await api.auth.setup({ setupToken, username, password })),
      logout: async () => {
        try {
          await api.auth.logout();
        } finally {
          csrf.current = undefined;
          setState({ kind: 'signed-out', setupNeeded: false, expired: false });
        }
      },
      retry: () => void probe(),
      expire,
    }),
    [state, api, client, signedIn, probe, expire],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The API of the signed-in session. */
export function useApi(): Endpoints {
  return useSession().api;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** What the signed-in role may do: `canOperate` (fleet, images, batches, re-image), `isAdmin` (users, tokens, audit). */
export function useRole(): { role: Role | null; username: string | null; canOperate: boolean; isAdmin: boolean } {
  const { state } = useSession();
  const role = state.kind === 'signed-in' ? state.session.user.role : null;
  return {
    role,
    username: state.kind === 'signed-in' ? state.session.user.username : null,
    canOperate: role !== null && RANK[role] >= RANK.operator,
    isAdmin: role === 'admin',
  };
}
