import { closeSync, mkdirSync, openSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import type { Logger } from '../lib/logger.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../lib/private-dir.js';
import { StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { startCheckpointer } from './checkpointer.js';
import { groupCommitter } from './group-commit.js';
import { SqliteFifoDialect } from './sqlite-dialect.js';
import type { Tables } from './tables.js';

/** After writes failed on a full disk, this much free space on its filesystem counts as recovered. */
const DISK_FULL_CLEARS_AT_BYTES = 16 * 1024 * 1024;

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** The query builder bound to the database or to one open transaction. */
export type Db = Kysely<Tables>;

export interface StoreHealth {
  ok: boolean;
  dialect: 'sqlite';
  file: string;
  sizeBytes: number;
  schemaVersion: string | null;
  error?: string;
}

/**
 * The one database connection. Repositories take a `Db` argument and never open transactions
 * themselves; the use case that owns the unit of work calls `transaction()`.
 */
export interface Store {
  readonly db: Db;
  readonly dialect: 'sqlite';
  /**
   * Runs `fn` as one write transaction (all or nothing) that holds the write lock from its first
   * statement; it resolves once the work is committed. Inside `fn`, use only the `tx` it is given,
   * and never call `transaction()` again: both wait for `fn` to finish.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  file: string;
  log: Logger;
  migrations?: readonly Migration[];
  now?: () => Date;
}

/** Opens (creating if needed) the SQLite database in WAL mode and applies pending migrations. */
export async function openSqliteStore(options: OpenStoreOptions): Promise<Store> {
  const { file, log } = options;
  let sqlite: Database.Database;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
    // Created before SQLite does (0644 by default), because it gives the WAL and SHM the mode of the database file.
    closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
    sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a killed process (the WAL is on disk); only a power cut can
    // lose the last commits, and it never corrupts the database.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    // Checkpoints run in a background thread (checkpointer.ts), not inside commits.
    sqlite.pragma('wal_autocheckpoint = 0');
  } catch (cause) {
    throw new StoreError(
      'STORE_OPEN_FAILED',
      `Cannot open the database ${file}: ${(cause as Error).message}. Check that the data directory exists and is writable (--data-dir).`,
      { file },
      { cause },
    );
  }

  const db = new Kysely<Tables>({ dialect: new SqliteFifoDialect(sqlite) });
  const checkpointer = startCheckpointer(file, log);
  const commit = groupCommitter(db, () => sqlite.inTransaction);
  /** Set while writes fail for want of space; the next commit that gets through clears it. */
  let diskFull: StoreError | null = null;

  async function transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    try {
      const result = await commit(fn);
      if (diskFull) log.info({ file }, 'database writes work again: disk space was freed');
      diskFull = null;
      return result;
    } catch (cause) {
      if ((cause as { code?: unknown }).code !== 'SQLITE_FULL') throw cause;
      if (!diskFull) log.error({ file, err: cause }, 'disk full: database writes fail');
      diskFull = new StoreError(
        'STORE_DISK_FULL',
        `Disk full: the database ${file} cannot be written, so nothing can be recorded. Free space on the filesystem of ` +
          `${dirname(file)} (delete old images with rpi-deploy image delete, or other files there); rpi-deploy carries on by itself once there is room.`,
        { file, dir: dirname(file) },
        { cause },
      );
      throw diskFull;
    }
  }

  const store: Store = {
    db,
    dialect: 'sqlite',
    transaction,
    async health() {
      try {
        await sql`select 1`.execute(db);
        // Reads work on a full disk. A small probe write could slip into space the WAL already holds
        // while real writes still fail, so free space decides until a real write gets through.
        if (diskFull && freeBytes(dirname(file)) < DISK_FULL_CLEARS_AT_BYTES) throw diskFull;
        diskFull = null;
        const last = await db.selectFrom('schema_migrations').select('id').orderBy('id', 'desc').executeTakeFirst();
        return { ok: true, dialect: 'sqlite', file, sizeBytes: statSync(file).size, schemaVersion: last?.id ?? null };
      } catch (err) {
        return { ok: false, dialect: 'sqlite', file, sizeBytes: 0, schemaVersion: null, error: (err as Error).message };
      }
    },
    async close() {
      await checkpointer.stop();
      await db.destroy();
    },
  };

  try {
    await migrate(store, options.migrations ?? MIGRATIONS, options.now ?? (() => new Date()), log);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

async function migrate(store: Store, migrations: readonly Migration[], now: () => Date, log: Logger): Promise<void> {
  await store.db.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  const applied = new Set((await store.db.selectFrom('schema_migrations').select('id').execute()).map((r) => r.id));
  const known = new Set(migrations.map((m) => m.id));
  const unknown = [...applied].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new StoreError(
      'STORE_SCHEMA_NEWER',
      `The database has migrations this version does not know (${unknown.join(', ')}); it was written by a newer rpi-deploy. Upgrade rpi-deploy or use another --data-dir.`,
      { unknown },
    );
  }
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    try {
      await store.transaction(async (tx) => {
        const at = now().toISOString();
        await m.up(tx as unknown as Kysely<unknown>, at);
        await tx.insertInto('schema_migrations').values({ id: m.id, applied_at: at }).execute();
      });
    } catch (cause) {
      throw new StoreError(
        'STORE_MIGRATION_FAILED',
        `Database migration ${m.id} failed: ${(cause as Error).message}`,
        { id: m.id },
        { cause },
      );
    }
    log.info({ migration: m.id }, 'database migration applied');
  }
}
