import type { Logger } from '../../lib/logger.js';
import { hashSecret, newSecret, secretsEqual } from './secrets.js';

/**
 * The one-time setup token: while no user exists, the server makes one at start and prints it;
 * whoever holds it may create the first admin through the web UI. There is never a default password.
 */
export interface SetupGate {
  /** A fresh token if no user exists yet (called at start), else undefined. */
  issue(): Promise<string | undefined>;
  /** True when `token` is the current one; it stays valid until the first admin exists. */
  accepts(token: string): boolean;
  /** Forget the token once the first admin exists. */
  spend(): void;
}

export function createSetupGate(deps: { countUsers: () => Promise<number>; log: Logger }): SetupGate {
  let hash: string | undefined;
  return {
    async issue() {
      if ((await deps.countUsers()) > 0) return undefined;
      const token = newSecret('setup_');
      hash = hashSecret(token);
      deps.log.warn('no users yet: create the first admin in the web UI with the setup token printed at start, or run: rpi-deploy user add NAME --admin');
      return token;
    },
    accepts: (token) => hash !== undefined && secretsEqual(hashSecret(token), hash),
    spend() {
      hash = undefined;
    },
  };
}
