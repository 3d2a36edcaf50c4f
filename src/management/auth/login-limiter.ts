import { BoundedMap } from '../../lib/bounded-map.js';

/**
 * Slows down password guessing without locking anyone out. Failed sign-ins are counted per
 * (username, client address) pair and per client address. Past a threshold, each further try from
 * that pair (or address) must wait, and every failure doubles the wait up to a cap: with the
 * defaults, 5 free failures for a pair, then 30 s, 1, 2, 4, 8 and at most 15 minutes between tries
 * (about 8 guesses an hour, kept up). A user's right password from another address is never held up by
 * someone else's failures: there is no per-username lock for an attacker to trigger.
 *
 * An attempt counts from the moment it is admitted, before its password is hashed, so guesses
 * sent in parallel cannot all pass the check while the first hashes are still running.
 *
 * Memory is bounded: past `MAX_KEYS` the least recently used key is forgotten, so a flood of
 * invented usernames cannot grow it. Kept in memory on purpose: a restart forgetting the counts
 * costs an attacker a restart.
 */
export interface LoginLimiter {
  /** Admits one sign-in attempt, or says how long this pair or address must wait first. */
  begin(username: string, address: string): LoginAdmission;
}

export type LoginAdmission = { admitted: true; attempt: LoginAttempt } | { admitted: false; retryAfterMs: number };

export interface LoginAttempt {
  /**
   * How the attempt ended; call it once. `failed` counts against the pair and the address; `succeeded` forgets
   * the pair's failures (not the address's: one good password there proves little); `abandoned`
   * (the check itself could not run) counts nothing.
   */
  settle(outcome: 'failed' | 'succeeded' | 'abandoned'): void;
}

export interface LoginLimits {
  /** Failures of one username from one address before each further try waits. */
  perPair: number;
  /** Failures from one address, whatever the usernames, before each further try from it waits. */
  perAddress: number;
  /** The first wait; each further failure doubles it. */
  firstDelaySeconds: number;
  /** The longest wait. */
  maxDelayMinutes: number;
  /** Failures are forgotten once this long passes without a new one. */
  forgetAfterMinutes: number;
}

interface Count {
  failures: number;
  lastFailureMs: number;
  /** Admitted attempts whose password is still being checked; each counts as a failure made now. */
  inFlight: number;
}

const MAX_KEYS = 10_000;

export function createLoginLimiter(limits: LoginLimits, clock: () => Date): LoginLimiter {
  const firstDelayMs = limits.firstDelaySeconds * 1000;
  const maxDelayMs = limits.maxDelayMinutes * 60_000;
  const forgetMs = limits.forgetAfterMinutes * 60_000;
  const counts = new BoundedMap<string, Count>(MAX_KEYS);

  /** The key's count, moved to the most recently used end; stale failures are forgotten first. */
  const touch = (key: string, now: number): Count => {
    let c = counts.get(key);
    if (c && c.inFlight === 0 && now - c.lastFailureMs >= forgetMs) c = undefined;
    c ??= { failures: 0, lastFailureMs: 0, inFlight: 0 };
    counts.set(key, c);
    return c;
  };

  const waitMs = (c: Count, threshold: number, now: number): number => {
    const pending = c.failures + c.inFlight;
    if (pending < threshold) return 0;
    const delayMs = Math.min(firstDelayMs * 2 ** (pending - threshold), maxDelayMs);
    return c.inFlight > 0 ? delayMs : Math.max(0, c.lastFailureMs + delayMs - now);
  };

  return {
    begin(username, address) {
      const now = clock().getTime();
      const pair = touch(`p:${username.trim().toLowerCase()}\n${address}`, now);
      const from = touch(`a:${address}`, now);
      const retryAfterMs = Math.max(waitMs(pair, limits.perPair, now), waitMs(from, limits.perAddress, now));
      if (retryAfterMs > 0) return { admitted: false, retryAfterMs };
      pair.inFlight++;
      from.inFlight++;
      return {
        admitted: true,
        attempt: {
          settle(outcome) {
            const at = clock().getTime();
            for (const c of [pair, from]) {
              c.inFlight--;
              if (outcome === 'failed') {
                c.failures++;
                c.lastFailureMs = at;
              }
            }
            if (outcome === 'succeeded') pair.failures = 0;
          },
        },
      };
    },
  };
}
