import { AppError } from '../lib/errors.js';

export type OperationsErrorCode = 'OPS_NOT_ROOT' | 'OPS_COMMAND_FAILED' | 'OPS_INSTALL_PATH_HIDDEN' | 'OPS_NOTIFY_FAILED';

/** Installing or removing the service failed; the message says what to do. */
export class OperationsError extends AppError<OperationsErrorCode> {}
