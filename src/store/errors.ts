import { AppError, type ErrorKind } from '../lib/errors.js';

export type StoreErrorCode = 'STORE_OPEN_FAILED' | 'STORE_SCHEMA_NEWER' | 'STORE_MIGRATION_FAILED' | 'STORE_DISK_FULL';

export class StoreError extends AppError<StoreErrorCode> {}

/** What kind of failure each store code is. A full disk is the server unable to serve until space is freed, not a bug. */
export const STORE_ERROR_KINDS: Readonly<Record<StoreErrorCode, ErrorKind>> = {
  STORE_OPEN_FAILED: 'failed',
  STORE_SCHEMA_NEWER: 'failed',
  STORE_MIGRATION_FAILED: 'failed',
  STORE_DISK_FULL: 'unavailable',
};
