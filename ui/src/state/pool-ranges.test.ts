import { describe, expect, it } from 'vitest';
import type { PoolEntry, PoolStatus } from '../../../src/protocol/fleet.js';
import { poolRanges, rangeLabel } from './pool-ranges.js';

const entry = (number: number, status: PoolStatus, serial: string | null = null): PoolEntry => ({
  id: number,
  venue: 'CORO',
  product: 'KXP2',
  number,
  hostname: `KXP2-CORO-${String(number).padStart(3, '0')}`,
  status,
  serial,
  assignedAt: serial ? '2026-12-06T10:00:00.000Z' : null,
  updatedAt: '2026-12-06T10:00:00.000Z',
});

describe('poolRanges', () => {
  it('groups consecutive numbers of one state; each assigned number stands alone; gaps break a range', () => {
    const pool = [
      ...Array.from({ length: 40 }, (_, i) => entry(i + 1, 'available')),
      entry(41, 'assigned', '10000001'),
      entry(42, 'assigned', '10000002'),
      entry(43, 'retired'),
      entry(44, 'retired'),
      entry(46, 'retired'),
      entry(47, 'available'),
    ].reverse();
    const ranges = poolRanges(pool);
    expect(ranges.map((r) => [rangeLabel(r), r.status, r.entries.length])).toEqual([
      ['KXP2-CORO-001 – 040', 'available', 40],
      ['KXP2-CORO-041', 'assigned', 1],
      ['KXP2-CORO-042', 'assigned', 1],
      ['KXP2-CORO-043 – 044', 'retired', 2],
      ['KXP2-CORO-046', 'retired', 1],
      ['KXP2-CORO-047', 'available', 1],
    ]);
  });

  it('shows the whole number where its digits change: 009 – 010, 099 – 100', () => {
    expect(rangeLabel(poolRanges([entry(9, 'available'), entry(10, 'available')])[0]!)).toBe('KXP2-CORO-009 – 010');
    expect(rangeLabel(poolRanges([entry(99, 'available'), entry(100, 'available')])[0]!)).toBe('KXP2-CORO-099 – 100');
  });
});
