export { openSqliteStore, type Store, type Db, type StoreHealth, type OpenStoreOptions } from './database.js';
export { openForeignSqlite, type ForeignSqlite } from './foreign-sqlite.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type * from './tables.js';
