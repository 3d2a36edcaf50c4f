import type { Role } from '../../protocol/management-api.js';

/** Who is making a request: a signed-in user (session cookie) or an API token. */
export interface Principal {
  userId: number;
  username: string;
  role: Role;
  via: 'session' | 'token';
  /** The session's hashed id, when signed in by cookie. */
  sessionHash?: string;
  tokenName?: string;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `role` may do what `needed` may do (admin ⊃ operator ⊃ viewer). */
export function roleAllows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** The lower of two roles: an API token never outranks the user who made it. */
export function lowerRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

/** How the audit log names an actor. */
export function actorName(p: Principal | undefined): string {
  if (!p) return '-';
  return p.via === 'token' ? `token:${p.tokenName}(${p.username})` : p.username;
}
