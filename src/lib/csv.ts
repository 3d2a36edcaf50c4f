/** One column of a table or CSV export: a title and how to get the cell from a row. */
export interface Column<T> {
  title: string;
  value: (row: T) => unknown;
  /** The cell in CSV when a spreadsheet wants other than people read: bytes as a number, a whole hash. */
  csv?: (row: T) => unknown;
}

/** A cell as text: empty for null, space-separated for lists. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(' ');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
    return String(v);
  return JSON.stringify(v) ?? '';
}

/** RFC 4180 CSV; a cell starting with = + - @ is prefixed with ' so spreadsheets do not run it. */
export function toCsv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const quote = (v: string) => {
    const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return (
    [columns.map((c) => quote(c.title)), ...rows.map((r) => columns.map((c) => quote(cellText((c.csv ?? c.value)(r)))))]
      .map((l) => l.join(','))
      .join('\r\n') + '\r\n'
  );
}
