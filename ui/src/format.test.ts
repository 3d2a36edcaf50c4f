import { describe, expect, it } from 'vitest';
import {
  estimateSecondsLeft,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatEta,
  formatRate,
  percentOf,
  secondsBetween,
} from './format.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [1500, '1.50 kB'],
    [23_400_000, '23.4 MB'],
    [999_600_000, '1.00 GB'],
    [7_950_000_000, '7.95 GB'],
    [128_000_000_000, '128 GB'],
    [-1, '—'],
    [Number.NaN, '—'],
    [null, '—'],
  ])('%s bytes → %s', (bytes, want) => expect(formatBytes(bytes)).toBe(want));
});

describe('formatRate', () => {
  it.each([
    [23_400_000, '23.4 MB/s'],
    [512, '512 B/s'],
    [0, '—'],
    [-5, '—'],
    [undefined, '—'],
  ])('%s B/s → %s', (rate, want) => expect(formatRate(rate)).toBe(want));
});

describe('formatDuration and formatEta', () => {
  it.each([
    [0, '0 s', '<1 s'],
    [0.4, '0 s', '<1 s'],
    [45, '45 s', '45 s'],
    [59.6, '1 min 00 s', '1 min 00 s'],
    [185, '3 min 05 s', '3 min 05 s'],
    [3720, '1 h 02 min', '1 h 02 min'],
    [2 * 86400 + 3 * 3600, '2 d 3 h', '2 d 3 h'],
    [-1, '—', '—'],
    [Number.POSITIVE_INFINITY, '—', '—'],
  ])('%s s → %s (ETA %s)', (s, duration, eta) => {
    expect(formatDuration(s)).toBe(duration);
    expect(formatEta(s)).toBe(eta);
  });

  it('ETA is unknown without a rate', () => expect(formatEta(null)).toBe('—'));
});

describe('estimateSecondsLeft', () => {
  it.each([
    ['half way at 10 MB/s', 50e6, 100e6, 10e6, 5],
    ['done', 100e6, 100e6, 10e6, 0],
    ['overshoot is clamped', 120e6, 100e6, 10e6, 0],
    ['no rate yet', 0, 100e6, null, null],
    ['stalled', 10e6, 100e6, 0, null],
    ['total unknown', 10e6, null, 10e6, null],
  ])('%s', (_case, done, total, rate, want) => expect(estimateSecondsLeft(done, total, rate)).toBe(want));
});

describe('percentOf', () => {
  it.each([
    [0, 100, 0],
    [99.9, 100, 99],
    [100, 100, 100],
    [150, 100, 100],
    [5, 0, null],
    [null, 100, null],
  ])('%s of %s → %s', (done, total, want) => expect(percentOf(done, total)).toBe(want));
});

describe('times', () => {
  it('formats local date-time to the minute and rejects garbage', () => {
    const iso = new Date(2026, 10, 22, 7, 3, 59).toISOString();
    expect(formatDateTime(iso)).toBe('2026-11-22 07:03');
    expect(formatDateTime('yesterday')).toBe('—');
    expect(formatDateTime(null)).toBe('—');
  });

  it('measures elapsed time to now or to the end', () => {
    const start = '2026-11-22T07:00:00.000Z';
    expect(secondsBetween(start, '2026-11-22T07:02:30.000Z', 0)).toBe(150);
    expect(secondsBetween(start, null, Date.parse('2026-11-22T07:00:10.000Z'))).toBe(10);
    expect(secondsBetween(null, null, 0)).toBeNull();
  });
});
