import { describe, expect, it } from 'vitest';
import { parseRange } from './http-range.js';

describe('parseRange', () => {
  it.each([
    ['no header', undefined, 100, undefined],
    ['a closed range', 'bytes=10-19', 100, { start: 10, end: 19 }],
    ['an open range', 'bytes=90-', 100, { start: 90, end: 99 }],
    ['a suffix', 'bytes=-10', 100, { start: 90, end: 99 }],
    ['a suffix longer than the body', 'bytes=-500', 100, { start: 0, end: 99 }],
    ['an end past the body', 'bytes=50-5000', 100, { start: 50, end: 99 }],
    ['the last byte', 'bytes=99-99', 100, { start: 99, end: 99 }],
    ['a start at the end', 'bytes=100-', 100, 'unsatisfiable'],
    ['a zero suffix', 'bytes=-0', 100, 'unsatisfiable'],
    ['a reversed range', 'bytes=20-10', 100, undefined],
    ['several ranges', 'bytes=0-1,5-6', 100, undefined],
    ['another unit', 'items=0-1', 100, undefined],
    ['garbage', 'bytes=abc', 100, undefined],
    ['an empty range', 'bytes=-', 100, undefined],
    ['a huge start', 'bytes=99999999999999999999-', 100, 'unsatisfiable'],
  ])('%s → %j', (_case, header, size, want) => expect(parseRange(header, size)).toEqual(want));
});
