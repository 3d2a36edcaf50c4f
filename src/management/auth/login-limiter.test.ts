import { describe, expect, it } from 'vitest';
import { createLoginLimiter } from './login-limiter.js';

function limiter() {
  let now = 0;
  const l = createLoginLimiter({ perUser: 3, perAddress: 5, windowMinutes: 10 }, () => new Date(now));
  return { l, advanceMin: (m: number) => (now += m * 60_000) };
}

describe('login limiter', () => {
  it('locks a user after perUser failures until the oldest one leaves the window', () => {
    const { l, advanceMin } = limiter();
    l.recordFailure('ana', 'a1');
    advanceMin(2);
    l.recordFailure('ANA', 'a2');
    l.recordFailure(' ana ', 'a3');
    expect(l.retryAfterMs('ana', 'a4')).toBe(8 * 60_000);
    advanceMin(8);
    expect(l.retryAfterMs('ana', 'a4')).toBe(0);
  });

  it('locks an address after perAddress failures across usernames', () => {
    const { l } = limiter();
    for (let i = 0; i < 5; i++) l.recordFailure(`user${i}`, '10.0.0.1');
    expect(l.retryAfterMs('someone', '10.0.0.1')).toBeGreaterThan(0);
    expect(l.retryAfterMs('someone', '10.0.0.2')).toBe(0);
  });

  it('forgets a user’s failures on success, but not the address’s', () => {
    const { l } = limiter();
    for (let i = 0; i < 2; i++) l.recordFailure('ana', '10.0.0.1');
    l.recordSuccess('ana');
    l.recordFailure('ana', '10.0.0.1');
    expect(l.retryAfterMs('ana', '10.0.0.9')).toBe(0);
  });

  it('stays bounded under a flood of invented usernames: the oldest keys are forgotten', () => {
    const { l } = limiter();
    for (let i = 0; i < 3; i++) l.recordFailure('early', '10.0.0.1');
    expect(l.retryAfterMs('early', '10.9.9.9')).toBeGreaterThan(0);
    for (let i = 0; i < 20_000; i++) l.recordFailure(`u${i}`, `198.18.${(i >> 8) & 255}.${i & 255}`);
    expect(l.retryAfterMs('early', '10.9.9.9')).toBe(0);
  });
});
