import { cellText, toCsv, type Column } from '../lib/csv.js';
import { formatBytes } from '../protocol/units.js';

/** How a command prints: a table for people, JSON or CSV for scripts. */
export type { Column } from '../lib/csv.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cells = rows.map((r) => columns.map((c) => cellText(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${[line(columns.map((c) => c.title.toUpperCase())), ...cells.map(line)].join('\n')}\n`);
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
