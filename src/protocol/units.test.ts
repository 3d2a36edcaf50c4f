import { describe, expect, it } from 'vitest';
import { formatBytes } from './units.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [1024, '1.02 kB'],
    [23_400_000, '23.4 MB'],
    [999_600_000, '1.00 GB'],
    [3 * 1024 ** 3, '3.22 GB'],
    [128_000_000_000, '128 GB'],
  ])('%d → %s', (n, want) => expect(formatBytes(n)).toBe(want));
});
