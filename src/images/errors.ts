import { AppError, type ErrorKind } from '../lib/errors.js';

/** Every way importing, storing or reading an image can fail. */
export type ImageErrorCode =
  | 'IMAGE_INPUT_INVALID'
  | 'IMAGE_UNKNOWN'
  | 'IMAGE_DUPLICATE'
  | 'IMAGE_ACTIVE'
  | 'IMAGE_FILE_UNREADABLE'
  | 'IMAGE_INPUT_EMPTY'
  | 'IMAGE_INPUT_CORRUPT'
  | 'IMAGE_NO_PARTITION_TABLE'
  | 'IMAGE_PARTITION_PAST_END'
  | 'IMAGE_ZIP_CONTENTS'
  | 'IMAGE_DECODER_MISSING'
  | 'IMAGE_IMPORT_ABORTED'
  | 'IMAGE_STORE_FAILED'
  | 'IMAGE_STORE_CHANGED'
  | 'IMAGE_STORE_CORRUPT'
  | 'IMAGE_FILES_MISSING'
  | 'IMAGE_CHUNK_UNKNOWN'
  | 'IMAGE_RANGE_INVALID'
  | 'IMAGE_PATH_INVALID'
  | 'IMAGE_NO_BOOT_PARTITION'
  | 'IMAGE_BOOT_FILE_UNKNOWN'
  | 'IMAGE_CAPTURE_UNKNOWN'
  | 'IMAGE_CAPTURE_OPEN'
  | 'IMAGE_CAPTURE_STATE'
  | 'IMAGE_CAPTURE_CHUNK_INVALID'
  | 'IMAGE_CAPTURE_INCOMPLETE'
  | 'IMAGE_NO_ROOT_FILESYSTEM'
  | 'IMAGE_FILESYSTEM_DAMAGED'
  | 'IMAGE_SANITISE_FAILED';

/** An image problem: the message says what to do, `details` names the image, chunk or path. */
export class ImageError extends AppError<ImageErrorCode> {}

/** What kind of failure each image code is; every edge turns kinds into its own statuses. */
export const IMAGE_ERROR_KINDS: Readonly<Record<ImageErrorCode, ErrorKind>> = {
  IMAGE_INPUT_INVALID: 'invalid',
  IMAGE_UNKNOWN: 'unknown',
  IMAGE_DUPLICATE: 'conflict',
  IMAGE_ACTIVE: 'conflict',
  IMAGE_FILE_UNREADABLE: 'failed',
  IMAGE_INPUT_EMPTY: 'invalid',
  IMAGE_INPUT_CORRUPT: 'invalid',
  IMAGE_NO_PARTITION_TABLE: 'invalid',
  IMAGE_PARTITION_PAST_END: 'invalid',
  IMAGE_ZIP_CONTENTS: 'invalid',
  IMAGE_DECODER_MISSING: 'failed',
  IMAGE_IMPORT_ABORTED: 'invalid',
  IMAGE_STORE_FAILED: 'failed',
  IMAGE_STORE_CHANGED: 'conflict',
  IMAGE_STORE_CORRUPT: 'failed',
  IMAGE_FILES_MISSING: 'failed',
  IMAGE_CHUNK_UNKNOWN: 'unknown',
  IMAGE_RANGE_INVALID: 'out-of-range',
  IMAGE_PATH_INVALID: 'invalid',
  IMAGE_NO_BOOT_PARTITION: 'unknown',
  IMAGE_BOOT_FILE_UNKNOWN: 'unknown',
  IMAGE_CAPTURE_UNKNOWN: 'unknown',
  IMAGE_CAPTURE_OPEN: 'conflict',
  IMAGE_CAPTURE_STATE: 'conflict',
  IMAGE_CAPTURE_CHUNK_INVALID: 'invalid',
  IMAGE_CAPTURE_INCOMPLETE: 'invalid',
  IMAGE_NO_ROOT_FILESYSTEM: 'invalid',
  IMAGE_FILESYSTEM_DAMAGED: 'invalid',
  IMAGE_SANITISE_FAILED: 'failed',
};

/** A chunk this import counted on vanished: an image sharing it was deleted meanwhile. */
export function storeChanged(sha256: string, cause?: unknown): ImageError {
  return new ImageError(
    'IMAGE_STORE_CHANGED',
    'An image sharing chunks with this one was deleted during the import; import again',
    { sha256 },
    { cause },
  );
}
