import { describe, expect, it } from 'vitest';
import { createLoginLimiter, type LoginAdmission } from './login-limiter.js';

function limiter() {
  let now = 1_000_000_000;
  const l = createLoginLimiter(
    { perPair: 3, perAddress: 5, firstDelaySeconds: 10, maxDelayMinutes: 1, forgetAfterMinutes: 30 },
    () => new Date(now),
  );
  const fail = (user: string, address: string) => admitted(l.begin(user, address)).settle('failed');
  return { l, fail, advanceS: (s: number) => (now += s * 1000) };
}

function admitted(a: LoginAdmission) {
  if (!a.admitted) throw new Error(`refused for ${a.retryAfterMs} ms`);
  return a.attempt;
}
const waitMs = (a: LoginAdmission) => (a.admitted ? 0 : a.retryAfterMs);

describe('login limiter', () => {
  it('makes a pair wait past perPair failures, doubling the wait with each failure up to the cap', () => {
    const { l, fail, advanceS } = limiter();
    for (let i = 0; i < 3; i++) fail('ana', 'a1');
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const w = waitMs(l.begin('ANA ', 'a1'));
      waits.push(w / 1000);
      advanceS(w / 1000);
      fail('ana', 'a1');
    }
    expect(waits).toEqual([10, 20, 40, 60, 60, 60]);
  });

  it('never holds up the same user from another address, nor another user from the same address', () => {
    const { l, fail } = limiter();
    for (let i = 0; i < 3; i++) fail('ana', 'attacker');
    expect(waitMs(l.begin('ana', 'attacker'))).toBe(10_000);
    expect(l.begin('ana', 'office').admitted).toBe(true);
    expect(l.begin('ben', 'attacker').admitted).toBe(true);
  });

  it('makes an address wait past perAddress failures across usernames', () => {
    const { l, fail } = limiter();
    for (let i = 0; i < 5; i++) fail(`user${i}`, '10.0.0.1');
    expect(waitMs(l.begin('someone', '10.0.0.1'))).toBe(10_000);
    expect(l.begin('someone', '10.0.0.2').admitted).toBe(true);
  });

  it('counts attempts still in flight as failures, so parallel tries cannot pass together', () => {
    const { l } = limiter();
    const running = [0, 1, 2].map(() => admitted(l.begin('ana', 'a1')));
    expect(waitMs(l.begin('ana', 'a1'))).toBe(10_000);
    for (const r of running) r.settle('abandoned');
    expect(l.begin('ana', 'a1').admitted).toBe(true);
  });

  it('forgets the pair’s failures on success, but not the address’s', () => {
    const { l, fail } = limiter();
    for (let i = 0; i < 2; i++) fail('ana', '10.0.0.1');
    admitted(l.begin('ana', '10.0.0.1')).settle('succeeded');
    for (let i = 0; i < 2; i++) fail('ana', '10.0.0.1');
    admitted(l.begin('ana', '10.0.0.1')).settle('abandoned');
    fail('ben', '10.0.0.1');
    expect(waitMs(l.begin('carl', '10.0.0.1'))).toBe(10_000);
  });

  it('forgets failures once forgetAfterMinutes pass without a new one', () => {
    const { l, fail, advanceS } = limiter();
    for (let i = 0; i < 3; i++) fail('ana', 'a1');
    advanceS(29 * 60);
    fail('ana', 'a1');
    expect(waitMs(l.begin('ana', 'a1'))).toBe(20_000);
    advanceS(30 * 60);
    fail('ana', 'a1');
    expect(waitMs(l.begin('ana', 'a1'))).toBe(0);
  });

  it('stays bounded under a flood of invented usernames: the least recently used keys are forgotten', () => {
    const { l, fail } = limiter();
    for (let i = 0; i < 3; i++) fail('early', '10.0.0.1');
    expect(l.begin('early', '10.0.0.1').admitted).toBe(false);
    for (let i = 0; i < 20_000; i++) fail(`u${i}`, `198.18.${(i >> 8) & 255}.${i & 255}`);
    expect(l.begin('early', '10.0.0.1').admitted).toBe(true);
  });
});
