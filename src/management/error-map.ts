import type { FleetErrorCode } from '../fleet/index.js';
import type { ImageErrorCode } from '../images/index.js';
import type { ManagementErrorCode } from './errors.js';

/**
 * HTTP status of every error an operator can meet on the management surface. Exhaustive on
 * purpose: a new code in fleet, images or management that is not mapped here does not compile.
 */
const STATUS: Record<FleetErrorCode | ImageErrorCode | ManagementErrorCode, number> = {
  FLEET_INPUT_INVALID: 400,
  FLEET_VENUE_CODE_INVALID: 400,
  FLEET_VENUE_UNKNOWN: 404,
  FLEET_VENUE_EXISTS: 409,
  FLEET_VENUE_IN_USE: 409,
  FLEET_PRODUCT_CODE_INVALID: 400,
  // Unlike a board, an operator names a product from a list: an unknown one is a missing resource.
  FLEET_PRODUCT_UNKNOWN: 404,
  FLEET_PRODUCT_EXISTS: 409,
  FLEET_PRODUCT_IN_USE: 409,
  FLEET_PRODUCT_NOT_POOLED: 400,
  FLEET_PRODUCT_AMBIGUOUS: 400,
  FLEET_PATTERN_INVALID: 400,
  FLEET_SERIAL_INVALID: 400,
  FLEET_MAC_INVALID: 400,
  FLEET_POOL_EXHAUSTED: 409,
  FLEET_POOL_INPUT_TOO_LARGE: 400,
  FLEET_HOSTNAME_UNKNOWN: 404,
  FLEET_HOSTNAME_TAKEN: 409,
  FLEET_HOSTNAME_ASSIGNED: 409,
  FLEET_NO_ACTIVE_BATCH: 409,
  FLEET_BATCH_UNKNOWN: 404,
  FLEET_BATCH_TRANSITION: 409,
  FLEET_DEVICE_UNKNOWN: 404,
  FLEET_DEPLOYMENT_UNKNOWN: 404,
  FLEET_DEPLOYMENT_FINISHED: 409,
  IMAGE_INPUT_INVALID: 400,
  IMAGE_UNKNOWN: 404,
  IMAGE_DUPLICATE: 409,
  IMAGE_ACTIVE: 409,
  IMAGE_FILE_UNREADABLE: 500,
  AUTH_REQUIRED: 401,
  AUTH_SESSION_EXPIRED: 401,
  AUTH_INVALID: 401,
  AUTH_TOKEN_INVALID: 401,
  AUTH_RATE_LIMITED: 429,
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
  MANAGEMENT_UPLOAD_FAILED: 400,
};

export function managementStatusOf(code: string): number | undefined {
  return (STATUS as Record<string, number>)[code];
}

/** Every mapped code with its status, for the OpenAPI document and the error-map test. */
export const MANAGEMENT_ERROR_STATUS: Readonly<Record<string, number>> = STATUS;
