import { AppError } from '../lib/errors.js';

/**
 * Expected failures of the management surface. AUTH_* are about who may do what; the UI treats
 * any 401 as "sign in again" and any 403 as "not allowed".
 */
export type ManagementErrorCode =
  | 'AUTH_REQUIRED'
  | 'AUTH_SESSION_EXPIRED'
  | 'AUTH_INVALID'
  | 'AUTH_RATE_LIMITED'
  | 'AUTH_BUSY'
  | 'AUTH_FORBIDDEN'
  | 'AUTH_CSRF'
  | 'AUTH_ORIGIN'
  | 'AUTH_HOST'
  | 'AUTH_TOKEN_INVALID'
  | 'AUTH_SETUP_DONE'
  | 'AUTH_SETUP_TOKEN_INVALID'
  | 'AUTH_PASSWORD_WEAK'
  | 'AUTH_PASSWORD_WRONG'
  | 'AUTH_USERNAME_INVALID'
  | 'AUTH_USER_EXISTS'
  | 'AUTH_USER_UNKNOWN'
  | 'AUTH_LAST_ADMIN'
  | 'AUTH_TOKEN_UNKNOWN'
  | 'MANAGEMENT_INPUT_INVALID'
  | 'MANAGEMENT_UPLOAD_TYPE';

export class ManagementError extends AppError<ManagementErrorCode> {}
