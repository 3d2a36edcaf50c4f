import { describe, expect, it } from 'vitest';
import { detectFormat } from './decode.js';

describe('detectFormat', () => {
  it.each([
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0], 'xz'],
    ['zstd', [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0], 'zst'],
    ['gzip', [0x1f, 0x8b, 8, 0, 0, 0, 0, 0], 'gz'],
    ['zip', [0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0], 'zip'],
    ['empty zip', [0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0], 'zip'],
    ['an MBR', [0xfa, 0xb8, 0x00, 0x10, 0x8e, 0xd0, 0xbc, 0x00], 'img'],
    ['zeros', [0, 0, 0, 0, 0, 0, 0, 0], 'img'],
    ['too short to tell', [0x1f], 'img'],
  ])('%s → %s', (_case, bytes, want) => expect(detectFormat(Uint8Array.from(bytes))).toBe(want));
});
