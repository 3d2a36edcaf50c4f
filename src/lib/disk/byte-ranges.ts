import type { ByteRange } from '../../protocol/manifest.js';

/**
 * Used ranges closer than this are merged: the manifest stays small on a fragmented filesystem,
 * and a board writes a little more, never less, than a filesystem uses.
 */
export const USED_RANGE_MERGE_GAP_BYTES = 64 * 1024;

/** Sorts, clamps to [0, limitBytes), and merges overlapping or nearly adjacent ranges. */
export function mergeRanges(
  ranges: readonly ByteRange[],
  limitBytes: number,
  gapBytes = USED_RANGE_MERGE_GAP_BYTES,
): ByteRange[] {
  const sorted = ranges
    .map((r) => ({ start: Math.max(0, r.offsetBytes), end: Math.min(limitBytes, r.offsetBytes + r.lengthBytes) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + gapBytes) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out.map((r) => ({ offsetBytes: r.start, lengthBytes: r.end - r.start }));
}

/** Moves ranges of a partition (relative to its start) to image offsets. */
export function shiftRanges(ranges: readonly ByteRange[], byBytes: number): ByteRange[] {
  return ranges.map((r) => ({ offsetBytes: r.offsetBytes + byBytes, lengthBytes: r.lengthBytes }));
}

/** True when [offsetBytes, offsetBytes + lengthBytes) meets any of the sorted, merged `ranges`. */
export function overlapsAny(ranges: readonly ByteRange[], offsetBytes: number, lengthBytes: number): boolean {
  let lo = 0;
  let hi = ranges.length;
  // The first range that ends after offsetBytes is the only candidate.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (r.offsetBytes + r.lengthBytes <= offsetBytes) lo = mid + 1;
    else hi = mid;
  }
  const r = ranges[lo];
  return r !== undefined && r.offsetBytes < offsetBytes + lengthBytes;
}

/** Sum of the ranges' lengths (they must not overlap). */
export function totalBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((sum, r) => sum + r.lengthBytes, 0);
}
