import type { PoolEntry, PoolStatus } from '../../../src/protocol/fleet.js';

/** Consecutive numbers of one state; an assigned number is a range of its own (it names its board). */
export interface PoolRange {
  status: PoolStatus;
  first: PoolEntry;
  last: PoolEntry;
  entries: PoolEntry[];
}

/** A pool as ranges, in number order: 66 numbers that are mostly free make a handful of rows. */
export function poolRanges(entries: readonly PoolEntry[]): PoolRange[] {
  const ranges: PoolRange[] = [];
  for (const e of [...entries].sort((a, b) => a.product.localeCompare(b.product) || a.number - b.number)) {
    const open = ranges.at(-1);
    if (
      open &&
      e.status !== 'assigned' &&
      open.status === e.status &&
      open.last.product === e.product &&
      open.last.number + 1 === e.number
    ) {
      open.entries.push(e);
      open.last = e;
    } else ranges.push({ status: e.status, first: e, last: e, entries: [e] });
  }
  return ranges;
}

/** "KXP2-CORO-001 – 040" for a range, the hostname alone for one number. */
export function rangeLabel(r: PoolRange): string {
  if (r.entries.length === 1) return r.first.hostname;
  const prefix = commonPrefix(r.first.hostname, r.last.hostname);
  // Keep whole digits: "KXP2-CORO-0" + "01–40" would read oddly.
  const cut = prefix.replace(/\d+$/, '').length;
  return `${r.first.hostname} – ${r.last.hostname.slice(cut)}`;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}
