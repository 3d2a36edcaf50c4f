/**
 * How a byte count reads to people, on the CLI and on the dashboard alike: decimal units as on
 * SD-card labels and in `dd` (1 MB = 10^6 bytes), three significant digits, never "1000 MB".
 */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** 0 B, 999 B, 1.50 kB, 23.4 MB, 7.95 GB, 128 GB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (unit < UNITS.length - 1 && Math.round(value * 100) / 100 >= 999.5) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}
