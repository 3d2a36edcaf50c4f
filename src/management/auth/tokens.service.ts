import { checkSchema } from '../../lib/validate.js';
import { ApiTokenInput, type ApiToken, type ApiTokenCreated } from '../../protocol/management-api.js';
import type { Store } from '../../store/index.js';
import { ManagementError } from '../errors.js';
import { lowerRole, type Principal } from './principal.js';
import { hashSecret, newSecret } from './secrets.js';
import { findToken, findTokenBySecret, insertToken, listTokens, revokeToken, touchToken } from './tokens.repo.js';

export interface TokenService {
  /** A new token; the secret is in the answer and nowhere else. */
  create(input: ApiTokenInput, creator: Principal): Promise<ApiTokenCreated>;
  list(): Promise<ApiToken[]>;
  revoke(id: number): Promise<ApiToken>;
  /** Who a bearer secret stands for; revoked, expired and unknown secrets are refused alike. */
  resolve(secret: string): Promise<Principal>;
}

/** Recognisable in logs and secret scanners. */
const TOKEN_PREFIX = 'rpd_';
const TOUCH_EVERY_MS = 60_000;

export function createTokenService(deps: { store: Store; clock: () => Date }): TokenService {
  const { store, clock } = deps;

  return {
    async create(input, creator) {
      const t = checkSchema(ApiTokenInput, input, (p) => {
        throw new ManagementError('MANAGEMENT_INPUT_INVALID', `${p.path} ${p.message}`, { field: p.path });
      });
      const secret = newSecret(TOKEN_PREFIX);
      const now = clock();
      const expiresAt = t.expiresInDays ? new Date(now.getTime() + t.expiresInDays * 86_400_000).toISOString() : null;
      const token = await store.transaction((tx) =>
        insertToken(tx, {
          name: t.name.trim(),
          secretHash: hashSecret(secret),
          role: lowerRole(t.role, creator.role),
          createdBy: creator.userId,
          now: now.toISOString(),
          expiresAt,
        }),
      );
      return { token, secret };
    },

    list: () => listTokens(store.db),

    async revoke(id) {
      const token = await findToken(store.db, id);
      if (!token) throw new ManagementError('AUTH_TOKEN_UNKNOWN', `API token ${id} does not exist`, { tokenId: id });
      await store.transaction((tx) => revokeToken(tx, id, clock().toISOString()));
      return (await findToken(store.db, id))!;
    },

    async resolve(secret) {
      const refused = new ManagementError(
        'AUTH_TOKEN_INVALID',
        'This API token is unknown, revoked or expired; ask an admin for a new one',
      );
      if (!secret.startsWith(TOKEN_PREFIX)) throw refused;
      const token = await findTokenBySecret(store.db, hashSecret(secret));
      const now = clock();
      if (!token || token.revokedAt || (token.expiresAt && Date.parse(token.expiresAt) <= now.getTime())) throw refused;
      if (!token.lastUsedAt || now.getTime() - Date.parse(token.lastUsedAt) >= TOUCH_EVERY_MS) {
        await store.transaction((tx) => touchToken(tx, token.id, now.toISOString()));
      }
      // A token acts on behalf of the user who made it.
      return {
        userId: token.creatorId,
        username: token.createdBy,
        role: lowerRole(token.role, token.creatorRole),
        via: 'token',
        tokenName: token.name,
      };
    },
  };
}
