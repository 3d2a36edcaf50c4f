export { openSqliteStore, type Store, type Db, type StoreHealth, type OpenStoreOptions } from './database.js';
export { openForeignSqlite, type ForeignSqlite } from './foreign-sqlite.js';
export { STORE_ERROR_KINDS, StoreError, type StoreErrorCode } from './errors.js';
export { appliedMigrations, backupDatabase, integrityCheck } from './backup.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export type * from './tables.js';
