import { describe, expect, it } from 'vitest';
import { normaliseMac } from './mac.js';

describe('normaliseMac', () => {
  it.each([
    ['2c:cf:67:01:02:0a', '2c:cf:67:01:02:0a'],
    ['2C-CF-67-01-02-0A', '2c:cf:67:01:02:0a'],
    [' 2c:CF:67:01:02:0a\n', '2c:cf:67:01:02:0a'],
  ])('normalises %j', (input, mac) => expect(normaliseMac(input)).toBe(mac));

  it.each(['2c:cf:67:01:02', '2c:cf:67:01:02:03:04', 'zz:cf:67:01:02:03', '2ccf67010203', '2c.cf.67.01.02.03', ''])(
    'refuses %j',
    (input) => expect(normaliseMac(input)).toBeNull(),
  );
});
