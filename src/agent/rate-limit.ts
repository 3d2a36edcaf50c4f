import { setTimeout as sleep } from 'node:timers/promises';

/** Paces writes to a byte rate, so a simulated board writes no faster than an SD card would. */
export interface RateLimiter {
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A token bucket holding at most one second of credit: bursts up to `bytesPerSec`, then the long
 * run average. Each caller waits for its own debt, so parallel writers share the rate.
 */
export function createRateLimiter(bytesPerSec: number, now: () => number = () => performance.now()): RateLimiter {
  let credit = bytesPerSec;
  let last = now();
  return {
    async take(bytes, signal) {
      const t = now();
      credit = Math.min(bytesPerSec, credit + ((t - last) / 1000) * bytesPerSec);
      last = t;
      credit -= bytes;
      if (credit < 0) await sleep((-credit / bytesPerSec) * 1000, undefined, { signal });
    },
  };
}
