import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../../store/index.js';
import { deleteExpiredBootTokens, findValidBootToken, insertBootToken } from './boot-tokens.repo.js';

/**
 * The per-boot token a board finds on its kernel command line and shows the device API when it
 * enrolls (DESIGN §3 "Auth"). 32 random bytes, base64url; only the SHA-256 is stored, with the
 * board's serial and an expiry.
 */
export interface BootTokens {
  issue(serial8: string): Promise<string>;
  /** The board's 8-digit serial if the token is one we issued and it has not expired. */
  verify(token: string): Promise<string | undefined>;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createBootTokens(deps: { store: Store; ttlMs: number; clock?: () => Date }): BootTokens {
  const clock = deps.clock ?? (() => new Date());
  return {
    async issue(serial8) {
      const token = randomBytes(32).toString('base64url');
      const now = clock();
      await deps.store.transaction(async (tx) => {
        await deleteExpiredBootTokens(tx, now.toISOString());
        await insertBootToken(tx, {
          sha256: digest(token),
          serial8,
          issuedAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + deps.ttlMs).toISOString(),
        });
      });
      return token;
    },
    async verify(token) {
      if (!TOKEN_PATTERN.test(token)) return undefined;
      return findValidBootToken(deps.store.db, digest(token), clock().toISOString());
    },
  };
}
