import { AppError } from '../lib/errors.js';

export type ImageErrorCode = 'IMAGE_INPUT_INVALID' | 'IMAGE_UNKNOWN' | 'IMAGE_DUPLICATE' | 'IMAGE_ACTIVE' | 'IMAGE_FILE_UNREADABLE';

export class ImageError extends AppError<ImageErrorCode> {}
