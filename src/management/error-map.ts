import { FLEET_ERROR_KINDS, type FleetErrorCode } from '../fleet/index.js';
import { IMAGE_ERROR_KINDS, type ImageErrorCode } from '../images/index.js';
import { statusesOf } from '../lib/http-server.js';
import { STORE_ERROR_KINDS, type StoreErrorCode } from '../store/index.js';
import type { ManagementErrorCode } from './errors.js';

/**
 * HTTP status of every error an operator can meet on the management surface. Exhaustive on
 * purpose: a new code in fleet, images or management that is not mapped here does not compile.
 */
const STATUS: Record<FleetErrorCode | ImageErrorCode | StoreErrorCode | ManagementErrorCode, number> = {
  ...statusesOf(FLEET_ERROR_KINDS),
  ...statusesOf(IMAGE_ERROR_KINDS),
  ...statusesOf(STORE_ERROR_KINDS),
  AUTH_REQUIRED: 401,
  AUTH_SESSION_EXPIRED: 401,
  AUTH_INVALID: 401,
  AUTH_TOKEN_INVALID: 401,
  AUTH_RATE_LIMITED: 429,
  AUTH_BUSY: 503,
  AUTH_FORBIDDEN: 403,
  AUTH_CSRF: 403,
  AUTH_ORIGIN: 403,
  AUTH_HOST: 403,
  AUTH_SETUP_DONE: 409,
  AUTH_SETUP_TOKEN_INVALID: 403,
  AUTH_PASSWORD_WEAK: 400,
  AUTH_PASSWORD_WRONG: 403,
  AUTH_USERNAME_INVALID: 400,
  AUTH_USER_EXISTS: 409,
  AUTH_USER_UNKNOWN: 404,
  AUTH_LAST_ADMIN: 409,
  AUTH_TOKEN_UNKNOWN: 404,
  MANAGEMENT_INPUT_INVALID: 400,
  MANAGEMENT_UPLOAD_TYPE: 415,
};

export function managementStatusOf(code: string): number | undefined {
  return (STATUS as Record<string, number>)[code];
}

/** Every mapped code with its status, for the OpenAPI document and the error-map test. */
export const MANAGEMENT_ERROR_STATUS: Readonly<Record<string, number>> = STATUS;
