/** How a command prints: a table for people, JSON or CSV for scripts. */
export interface Column<T> {
  title: string;
  value: (row: T) => unknown;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(' ');
  return String(v);
}

export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${[line(columns.map((c) => c.title.toUpperCase())), ...cells.map(line)].join('\n')}\n`);
}

/** RFC 4180 CSV; a cell starting with = + - @ is prefixed with ' so spreadsheets do not run it. */
export function toCsv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const quote = (v: string) => {
    const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [columns.map((c) => quote(c.title)), ...rows.map((r) => columns.map((c) => quote(cell(c.value(r)))))].map((l) => l.join(',')).join('\r\n') + '\r\n';
}

export type Format = 'table' | 'json' | 'csv';

export function print<T>(format: Format, value: readonly T[], columns: readonly Column<T>[], empty?: string): void {
  if (format === 'json') printJson(value);
  else if (format === 'csv') process.stdout.write(toCsv(value, columns));
  else printTable(value, columns, empty);
}

/** Human progress on stderr: rewritten in place on a terminal, a line per quarter otherwise. */
export function progressPrinter(label: string): (done: number, total: number) => void {
  let lastQuarter = -1;
  return (done, total) => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    const text = `${label} ${pct}% (${formatBytes(done)} of ${formatBytes(total)})`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${text}${done >= total ? '\n' : ''}`);
    } else if (Math.floor(pct / 25) > lastQuarter) {
      lastQuarter = Math.floor(pct / 25);
      process.stderr.write(`${text}\n`);
    }
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
