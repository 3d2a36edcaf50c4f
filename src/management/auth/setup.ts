import type { Logger } from '../../lib/logger.js';
import { hashSecret, newSecret, secretsEqual } from './secrets.js';

/**
 * The one-time setup token: while no user exists, the server makes one at start and prints it;
 * whoever holds it may create the first admin through the web UI. There is never a default password.
 */
export interface SetupGate {
  /** A fresh token if no user exists yet (called at start), else undefined. */
  issue(): Promise<string | undefined>;
  /**
   * Takes the token if `token` is it: undefined when wrong or already taken. The returned function
   * gives it back (the first admin could not be created, e.g. a weak password).
   */
  claim(token: string): (() => void) | undefined;
}

export function createSetupGate(deps: { countUsers: () => Promise<number>; log: Logger }): SetupGate {
  let hash: string | undefined;
  return {
    async issue() {
      if ((await deps.countUsers()) > 0) return undefined;
      const token = newSecret('setup_');
      hash = hashSecret(token);
      deps.log.warn(
        'no users yet: create the first admin in the web UI with the setup token printed at start, or run: rpi-deploy user add NAME --admin',
      );
      return token;
    },
    claim(token) {
      const taken = hash;
      if (taken === undefined || !secretsEqual(hashSecret(token), taken)) return undefined;
      hash = undefined;
      return () => {
        hash = taken;
      };
    },
  };
}
