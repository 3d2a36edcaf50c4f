/**
 * Counts failed logins per username and per client address in a sliding window. Memory is bounded:
 * past `maxKeys` the oldest key is forgotten, so a flood of invented usernames cannot grow it.
 * Kept in memory on purpose: a restart forgetting the counts costs an attacker a restart.
 */
export interface LoginLimiter {
  /** Milliseconds until this user or address may try again; 0 when allowed. */
  retryAfterMs(username: string, address: string): number;
  recordFailure(username: string, address: string): void;
  /** A successful login clears the user's count (not the address's: one good password there proves little). */
  recordSuccess(username: string): void;
}

export interface LoginLimits {
  perUser: number;
  perAddress: number;
  windowMinutes: number;
}

const MAX_KEYS = 10_000;

export function createLoginLimiter(limits: LoginLimits, clock: () => Date): LoginLimiter {
  const windowMs = limits.windowMinutes * 60_000;
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number): number[] => {
    const kept = (failures.get(key) ?? []).filter((t) => t > now - windowMs);
    if (kept.length === 0) failures.delete(key);
    else failures.set(key, kept);
    return kept;
  };

  const wait = (key: string, max: number, now: number): number => {
    const times = recent(key, now);
    return times.length >= max ? times[times.length - max]! + windowMs - now : 0;
  };

  const add = (key: string, now: number) => {
    const times = recent(key, now);
    failures.delete(key);
    failures.set(key, [...times, now]);
    if (failures.size > MAX_KEYS) failures.delete(failures.keys().next().value!);
  };

  return {
    retryAfterMs(username, address) {
      const now = clock().getTime();
      return Math.max(wait(`u:${username.trim().toLowerCase()}`, limits.perUser, now), wait(`a:${address}`, limits.perAddress, now));
    },
    recordFailure(username, address) {
      const now = clock().getTime();
      add(`u:${username.trim().toLowerCase()}`, now);
      add(`a:${address}`, now);
    },
    recordSuccess(username) {
      failures.delete(`u:${username.trim().toLowerCase()}`);
    },
  };
}
