import { AppError } from '../lib/errors.js';

export type DeviceApiErrorCode =
  | 'DEVICE_TOKEN_MISSING'
  | 'DEVICE_TOKEN_INVALID'
  | 'DEVICE_TOKEN_FORBIDDEN'
  | 'DEVICE_TOKEN_REQUIRED'
  | 'DEVICE_BOOT_TOKEN_INVALID'
  | 'DEVICE_NO_IMAGE'
  | 'DEVICE_IMAGE_NOT_CUSTOMISABLE'
  | 'DEVICE_CHUNK_UNKNOWN'
  | 'DEVICE_CHUNK_NOT_USED'
  | 'DEVICE_CHUNK_DAMAGED'
  | 'DEVICE_RESULT_INCOMPLETE'
  | 'DEVICE_STATUS_NO_DEPLOYMENT'
  | 'DEVICE_IMAGE_NAME_INVALID'
  | 'DEVICE_IMAGE_FILE_UNKNOWN';

/** Failures of the device API itself (authentication, plan, seed routes); the message says what to do. */
export class DeviceApiError extends AppError<DeviceApiErrorCode> {}
