import { AppError } from '../lib/errors.js';

export type StoreErrorCode = 'STORE_OPEN_FAILED' | 'STORE_SCHEMA_NEWER' | 'STORE_MIGRATION_FAILED';

export class StoreError extends AppError<StoreErrorCode> {}
