import Database from 'better-sqlite3';
import { StoreError } from './errors.js';

/**
 * A consistent copy of a live database with SQLite's online backup API: it reads the database
 * through its own read-only connection, so it works while another process (the server) writes.
 */
export async function backupDatabase(source: string, destination: string): Promise<{ pages: number }> {
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new StoreError(
      'STORE_OPEN_FAILED',
      `Cannot open the database ${source} to back it up: ${(cause as Error).message}; check --data-dir`,
      { file: source },
      { cause },
    );
  }
  try {
    db.pragma('busy_timeout = 10000');
    // All pages in one step, inside one read transaction: a snapshot that the server's writes
    // (WAL) neither block nor restart, however busy it is.
    const { totalPages } = await db.backup(destination, { progress: () => 0x7fffffff });
    return { pages: totalPages };
  } finally {
    db.close();
  }
}

/** SQLite's own consistency check of a database file: ['ok'], or the problems it found. */
export function integrityCheck(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
  } finally {
    db.close();
  }
}

/** The migrations recorded in a database file, oldest first (its schema version is the last). */
export function appliedMigrations(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('select id from schema_migrations order by id').all() as Array<{ id: string }>).map((r) => r.id);
  } finally {
    db.close();
  }
}
