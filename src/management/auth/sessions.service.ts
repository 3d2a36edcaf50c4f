import type { Role } from '../../protocol/management-api.js';
import type { Store } from '../../store/index.js';
import { ManagementError } from '../errors.js';
import type { Principal } from './principal.js';
import { csrfTokenOf, hashSecret, newSecret } from './secrets.js';
import { deleteExpiredSessions, deleteSession, findSession, insertSession, touchSession } from './sessions.repo.js';

export interface SessionLimits {
  idleMinutes: number;
  absoluteHours: number;
}

/** A live session as a request sees it. */
export interface OpenSession {
  principal: Principal;
  csrfToken: string;
  /** When the session ends unless used again (idle), and never later than its absolute end. */
  expiresAt: string;
}

export interface SessionService {
  /** A new session for a user who just proved who they are; the id goes into the cookie only. */
  open(user: { id: number; username: string; role: Role }, ip: string | null): Promise<{ id: string } & OpenSession>;
  /**
   * The session behind a cookie, marked as used unless `touch` is false (a live stream checking
   * that its session still stands is not activity); expired or unknown ids are refused.
   */
  resolve(id: string, options?: { touch?: boolean }): Promise<OpenSession>;
  close(id: string): Promise<void>;
  /** Deletes sessions nobody can use any more; returns how many. */
  sweep(): Promise<number>;
}

/** last_seen_at is written at most this often, not on every request: idle expiry needs no finer grain. */
const TOUCH_EVERY_MS = 60_000;

export function createSessionService(deps: { store: Store; clock: () => Date; limits: SessionLimits }): SessionService {
  const { store, clock } = deps;
  const idleMs = deps.limits.idleMinutes * 60_000;
  const absoluteMs = deps.limits.absoluteHours * 3_600_000;
  const expiresAt = (createdAt: number, lastSeen: number) =>
    new Date(Math.min(createdAt + absoluteMs, lastSeen + idleMs)).toISOString();

  return {
    async open(user, ip) {
      const id = newSecret();
      const now = clock();
      const idHash = hashSecret(id);
      await store.transaction((tx) => insertSession(tx, { idHash, userId: user.id, now: now.toISOString(), ip }));
      return {
        id,
        principal: { userId: user.id, username: user.username, role: user.role, via: 'session', sessionHash: idHash },
        csrfToken: csrfTokenOf(id),
        expiresAt: expiresAt(now.getTime(), now.getTime()),
      };
    },

    async resolve(id, options = {}) {
      const idHash = hashSecret(id);
      const row = await findSession(store.db, idHash);
      if (!row) throw new ManagementError('AUTH_REQUIRED', 'Sign in first (your session is unknown or was ended)');
      const now = clock().getTime();
      const created = Date.parse(row.created_at);
      let lastSeen = Date.parse(row.last_seen_at);
      if (now >= created + absoluteMs || now >= lastSeen + idleMs) {
        await store.transaction((tx) => deleteSession(tx, idHash));
        throw new ManagementError('AUTH_SESSION_EXPIRED', 'Your session has expired; sign in again');
      }
      if (options.touch !== false && now - lastSeen >= TOUCH_EVERY_MS) {
        lastSeen = now;
        await store.transaction((tx) => touchSession(tx, idHash, new Date(now).toISOString()));
      }
      return {
        principal: {
          userId: row.user_id,
          username: row.username,
          role: row.role as Role,
          via: 'session',
          sessionHash: idHash,
        },
        csrfToken: csrfTokenOf(id),
        expiresAt: expiresAt(created, lastSeen),
      };
    },

    close: (id) => store.transaction((tx) => deleteSession(tx, hashSecret(id))),

    sweep() {
      const now = clock().getTime();
      return store.transaction((tx) =>
        deleteExpiredSessions(tx, new Date(now - idleMs).toISOString(), new Date(now - absoluteMs).toISOString()),
      );
    },
  };
}
