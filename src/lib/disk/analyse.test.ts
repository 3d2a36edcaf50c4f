import { describe, expect, it } from 'vitest';
import { detectOsGeneration } from './analyse.js';
import { mergeRanges, overlapsAny } from './byte-ranges.js';

describe('detectOsGeneration', () => {
  it.each([
    [
      'cloud-init files (current Raspberry Pi OS)',
      ['config.txt', 'cmdline.txt', 'kernel_2712.img', 'user-data', 'meta-data'],
      'cloud-init',
    ],
    ['only network-config', ['network-config'], 'cloud-init'],
    ['upper-case names as FAT may show them', ['CONFIG.TXT', 'CMDLINE.TXT', 'KERNEL8.IMG', 'USER-DATA'], 'cloud-init'],
    [
      'a Bookworm boot partition',
      ['config.txt', 'cmdline.txt', 'kernel_2712.img', 'kernel8.img', 'issue.txt'],
      'firstrun',
    ],
    ['no kernel', ['config.txt', 'cmdline.txt'], 'unknown'],
    ['something else', ['EFI', 'grub.cfg'], 'unknown'],
  ])('%s → %s', (_case, names, want) => expect(detectOsGeneration(names)).toBe(want));
});

describe('mergeRanges', () => {
  const r = (offsetBytes: number, lengthBytes: number) => ({ offsetBytes, lengthBytes });
  it.each([
    ['sorts and merges overlaps', [r(100, 50), r(0, 120)], 1000, 0, [r(0, 150)]],
    ['merges touching ranges', [r(0, 10), r(10, 10)], 1000, 0, [r(0, 20)]],
    ['keeps a gap wider than the limit', [r(0, 10), r(20, 10)], 1000, 5, [r(0, 10), r(20, 10)]],
    ['bridges a gap within the limit', [r(0, 10), r(20, 10)], 1000, 10, [r(0, 30)]],
    ['clamps to the image', [r(900, 500), r(-5, 10)], 1000, 0, [r(0, 5), r(900, 100)]],
    ['drops empty ranges', [r(10, 0)], 1000, 0, []],
  ])('%s', (_case, input, limit, gap, want) => expect(mergeRanges(input, limit, gap)).toEqual(want));
});

describe('overlapsAny', () => {
  const ranges = [
    { offsetBytes: 10, lengthBytes: 10 },
    { offsetBytes: 100, lengthBytes: 1 },
  ];
  it.each([
    [0, 10, false],
    [0, 11, true],
    [19, 1, true],
    [20, 80, false],
    [20, 81, true],
    [101, 1000, false],
  ])('[%i, +%i) → %s', (offset, length, want) => expect(overlapsAny(ranges, offset, length)).toBe(want));
});
