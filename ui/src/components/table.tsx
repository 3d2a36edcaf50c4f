import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** `num` right-aligns figures; `actions` holds buttons */
  kind?: 'num' | 'actions';
  /** hidden on phone-sized screens when it is not needed there */
  optional?: boolean;
}

/**
 * A table on a laptop; on a phone each row becomes a card whose cells are labelled by their
 * column header (the CSS reads `data-label`), unless `dense`: long lists of short rows (a pool
 * of 60 numbers) stay one line per row there, without their optional columns.
 */
export function Table<T>({
  caption,
  columns,
  rows,
  rowKey,
  rowClass,
  dense = false,
}: {
  caption: string;
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  rowClass?: (row: T) => string | undefined;
  dense?: boolean;
}) {
  return (
    <div className="table-wrap">
      <table className={dense ? 'table table-dense' : 'table'}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.header}
                scope="col"
                className={[c.kind, c.optional && 'optional'].filter(Boolean).join(' ') || undefined}
              >
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} className={rowClass?.(row)}>
              {columns.map((c) => (
                <td
                  key={c.header}
                  data-label={c.header}
                  className={[c.kind, c.optional && 'optional'].filter(Boolean).join(' ') || undefined}
                >
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
