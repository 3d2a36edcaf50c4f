export { openSqliteStore, type Store, type Db, type StoreHealth, type OpenStoreOptions } from './database.js';
export { appliedMigrations, backupDatabase, integrityCheck } from './backup.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type * from './tables.js';
