import Database from 'better-sqlite3';

/**
 * Another program's SQLite file (the seed installation's deployment.db), opened read-only: the
 * columns of its tables and the rows of a query. Nothing is ever written to it.
 */
export interface ForeignSqlite {
  /** The table's column names; empty when there is no such table. */
  columns(table: string): Set<string>;
  rows(sql: string): Record<string, unknown>[];
  close(): void;
}

/** Throws better-sqlite3's own error when the file is missing or not a database: the caller says what it wanted. */
export function openForeignSqlite(file: string): ForeignSqlite {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return {
    columns: (table) =>
      new Set(
        (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name),
      ),
    rows: (sql) => db.prepare(sql).all() as Record<string, unknown>[],
    close: () => db.close(),
  };
}
