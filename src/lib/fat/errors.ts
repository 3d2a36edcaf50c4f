import { AppError } from '../errors.js';

/**
 * What can go wrong reading or writing a FAT volume. The library is shared by the server and the
 * on-board agent, so the codes name the filesystem, not the caller's purpose.
 */
export type FatErrorCode =
  | 'FAT_NOT_FAT'
  | 'FAT_CORRUPT'
  | 'FAT_PATH_INVALID'
  | 'FAT_NOT_FOUND'
  | 'FAT_NOT_A_DIRECTORY'
  | 'FAT_IS_DIRECTORY'
  | 'FAT_NO_SPACE'
  | 'FAT_DIRECTORY_FULL'
  | 'FAT_READ_ONLY'
  | 'FAT_IO';

/** A FAT problem with its code; `details` says where (path, cluster). */
export class FatError extends AppError<FatErrorCode> {}
