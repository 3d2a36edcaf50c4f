import { AppError } from '../lib/errors.js';

export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_FILE_UNREADABLE';

/** A configuration problem; the message names the key and where its value came from. */
export class ConfigError extends AppError<ConfigErrorCode> {}
