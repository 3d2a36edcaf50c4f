import { describe, expect, it } from 'vitest';
import type { TftpOption } from './codec.js';
import { maxWindowFor, negotiate, type Negotiated, type TftpLimits } from './options.js';

const LIMITS: TftpLimits = { maxBlksize: 1468, maxWindowsize: 64, windowBudgetBytes: 212_992, defaultTimeoutMs: 1000 };

describe('TFTP option negotiation', () => {
  it.each<[string, TftpOption[], Negotiated]>([
    ['no options: RFC 1350 defaults, no OACK', [], { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: null }],
    [
      'the Pi 5 request',
      [
        ['tsize', '0'],
        ['blksize', '1468'],
      ],
      {
        blksize: 1468,
        windowsize: 1,
        timeoutMs: 1000,
        oack: [
          ['tsize', '4242'],
          ['blksize', '1468'],
        ],
      },
    ],
    [
      'blksize above the limit is lowered',
      [['blksize', '8192']],
      { blksize: 1468, windowsize: 1, timeoutMs: 1000, oack: [['blksize', '1468']] },
    ],
    ['blksize below 8 is declined', [['blksize', '7']], { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: null }],
    [
      'blksize that is not a number is declined',
      [['blksize', '1k']],
      { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: null },
    ],
    [
      'timeout is accepted as asked',
      [['timeout', '3']],
      { blksize: 512, windowsize: 1, timeoutMs: 3000, oack: [['timeout', '3']] },
    ],
    ['timeout 0 is declined', [['timeout', '0']], { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: null }],
    [
      'windowsize within the budget',
      [
        ['blksize', '1468'],
        ['windowsize', '16'],
      ],
      {
        blksize: 1468,
        windowsize: 16,
        timeoutMs: 1000,
        oack: [
          ['blksize', '1468'],
          ['windowsize', '16'],
        ],
      },
    ],
    [
      'windowsize is bounded by the budget for the negotiated block size',
      [
        ['windowsize', '64'],
        ['blksize', '1468'],
      ],
      {
        blksize: 1468,
        windowsize: 64,
        timeoutMs: 1000,
        oack: [
          ['blksize', '1468'],
          ['windowsize', '64'],
        ],
      },
    ],
    ['windowsize 0 is declined', [['windowsize', '0']], { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: null }],
    [
      'unknown options are ignored',
      [
        ['multicast', ''],
        ['tsize', '0'],
      ],
      { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: [['tsize', '4242']] },
    ],
    [
      'a repeated option counts once',
      [
        ['blksize', '1024'],
        ['blksize', '8'],
      ],
      { blksize: 1024, windowsize: 1, timeoutMs: 1000, oack: [['blksize', '1024']] },
    ],
  ])('%s', (_case, requested, want) => expect(negotiate(requested, 4242, LIMITS)).toEqual(want));

  it.each([
    [1468, 212_992, 64, 64],
    [1468, 65_536, 64, 21],
    [8192, 212_992, 64, 12],
    [65_464, 65_536, 64, 1],
  ])('window bound: blksize %i in a %i-byte budget (cap %i) → %i', (blksize, budget, cap, want) =>
    expect(maxWindowFor(blksize, { windowBudgetBytes: budget, maxWindowsize: cap })).toBe(want),
  );
});
