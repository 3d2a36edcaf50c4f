import { describe, expect, it } from 'vitest';
import { formatBytes } from './format-bytes.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1536, '1.5 KiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
  ])('%d → %s', (n, want) => expect(formatBytes(n)).toBe(want));
});
