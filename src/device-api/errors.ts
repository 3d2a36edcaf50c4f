import { AppError } from '../lib/errors.js';

export type DeviceApiErrorCode =
  | 'DEVICE_TOKEN_MISSING'
  | 'DEVICE_TOKEN_INVALID'
  | 'DEVICE_TOKEN_FORBIDDEN'
  | 'DEVICE_BOOT_TOKEN_MISSING'
  | 'DEVICE_BOOT_TOKEN_INVALID'
  | 'DEVICE_CHUNK_UNKNOWN'
  | 'DEVICE_CHUNK_DAMAGED'
  | 'DEVICE_IMAGE_NAME_INVALID'
  | 'DEVICE_IMAGE_FILE_UNKNOWN'
  | 'DEVICE_CAPTURE_CHUNK_MALFORMED';

/** Failures of the device API itself (authentication, chunks, seed image names); the message says what to do. */
export class DeviceApiError extends AppError<DeviceApiErrorCode> {}
