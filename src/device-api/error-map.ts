import type { FleetErrorCode } from '../fleet/index.js';
import type { ImageErrorCode } from '../images/index.js';

/**
 * HTTP status of every error a board can meet. Exhaustive on purpose: a new error code that is
 * not mapped here does not compile. Unknown products are 400 because the seed's installers sent
 * them as plain input (its product list was fixed).
 */
const STATUS: Record<FleetErrorCode | ImageErrorCode, number> = {
  FLEET_INPUT_INVALID: 400,
  FLEET_VENUE_CODE_INVALID: 400,
  FLEET_VENUE_UNKNOWN: 404,
  FLEET_VENUE_EXISTS: 409,
  FLEET_VENUE_IN_USE: 409,
  FLEET_PRODUCT_CODE_INVALID: 400,
  FLEET_PRODUCT_UNKNOWN: 400,
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
};

export function deviceStatusOf(code: string): number | undefined {
  return (STATUS as Record<string, number>)[code];
}
