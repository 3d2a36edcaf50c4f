import { AppError } from '../lib/errors.js';

export type OperationsErrorCode =
  | 'OPS_NOT_ROOT'
  | 'OPS_COMMAND_FAILED'
  | 'OPS_INSTALL_PATH_HIDDEN'
  | 'OPS_NOTIFY_FAILED'
  | 'OPS_BACKUP_TARGET_INVALID'
  | 'OPS_BACKUP_NO_DATABASE'
  | 'OPS_BACKUP_DATABASE_DAMAGED'
  | 'OPS_RESTORE_TARGET_NOT_EMPTY'
  | 'OPS_RESTORE_INVALID';

/** Installing the service, a backup or a restore failed; the message says what to do. */
export class OperationsError extends AppError<OperationsErrorCode> {}
