/**
 * How numbers and times read on the dashboard: byte counts by the rule the CLI shares, durations
 * short enough for a phone column, "—" for anything unknown.
 */
import { formatBytes as formatByteCount } from '../../src/protocol/units.js';

export const UNKNOWN = '—';

/** The shared rule (src/protocol/units.ts, the CLI's too) with "—" for a count not known. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return UNKNOWN;
  return formatByteCount(bytes);
}

/** A transfer or write rate: "23.4 MB/s"; zero, negative or unknown rates read "—". */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined || !(bytesPerSecond > 0)) return UNKNOWN;
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** 45 s · 3 min 05 s · 1 h 02 min · 2 d 3 h: two units at most, the larger one first. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return UNKNOWN;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Seconds left at the current rate, or null when it cannot be known (no rate, no total, done). */
export function estimateSecondsLeft(
  doneBytes: number | null,
  totalBytes: number | null,
  bytesPerSecond: number | null,
): number | null {
  if (doneBytes === null || totalBytes === null || bytesPerSecond === null || !(bytesPerSecond > 0) || totalBytes <= 0)
    return null;
  return Math.max(0, (totalBytes - doneBytes) / bytesPerSecond);
}

/** "ETA 3 min 05 s", "ETA <1 s" near the end, "—" while unknown. */
export function formatEta(secondsLeft: number | null | undefined): string {
  if (secondsLeft === null || secondsLeft === undefined || !Number.isFinite(secondsLeft) || secondsLeft < 0)
    return UNKNOWN;
  return secondsLeft < 1 ? '<1 s' : formatDuration(secondsLeft);
}

/** Whole percent for a progress bar's label; null when the total is unknown. */
export function percentOf(done: number | null | undefined, total: number | null | undefined): number | null {
  if (done === null || done === undefined || !total || total <= 0) return null;
  return Math.min(100, Math.max(0, Math.floor((done / total) * 100)));
}

/** Local date and time to the minute, `2026-11-22 07:03`, sortable and unambiguous across locales. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return UNKNOWN;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return UNKNOWN;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Seconds between two timestamps (or from `fromIso` to `nowMs`), null when either is missing. */
export function secondsBetween(
  fromIso: string | null | undefined,
  toIso: string | null | undefined,
  nowMs: number,
): number | null {
  if (!fromIso) return null;
  const from = Date.parse(fromIso);
  const to = toIso ? Date.parse(toIso) : nowMs;
  if (Number.isNaN(from) || Number.isNaN(to)) return null;
  return Math.max(0, (to - from) / 1000);
}

/** Kart numbers as ranges: [1,2,3,5,7,8] → "1–3, 5, 7–8" (sorted, duplicates once). */
export function formatNumberList(numbers: readonly number[]): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : j === i + 1 ? `${sorted[i]}, ${sorted[j]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
