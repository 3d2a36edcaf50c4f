import { FLEET_ERROR_KINDS, type FleetErrorCode } from '../fleet/index.js';
import { IMAGE_ERROR_KINDS, type ImageErrorCode } from '../images/index.js';
import { statusesOf } from '../lib/http-server.js';
import { STORE_ERROR_KINDS, type StoreErrorCode } from '../store/index.js';
import type { SafePathErrorCode } from '../lib/safe-path.js';
import type { DeviceApiErrorCode } from './errors.js';

/**
 * HTTP status of every error a board can meet. Exhaustive on purpose: a new error code that is
 * not mapped here does not compile.
 */
const STATUS: Record<
  FleetErrorCode | ImageErrorCode | StoreErrorCode | DeviceApiErrorCode | SafePathErrorCode,
  number
> = {
  ...statusesOf(FLEET_ERROR_KINDS),
  ...statusesOf(IMAGE_ERROR_KINDS),
  ...statusesOf(STORE_ERROR_KINDS),
  // The seed's installers sent the product as plain input (its product list was fixed).
  FLEET_PRODUCT_UNKNOWN: 400,
  // A token ends with its deployment: what it opened is no longer the board's to read.
  FLEET_DEPLOYMENT_ENDED: 403,
  DEVICE_TOKEN_MISSING: 401,
  DEVICE_TOKEN_INVALID: 401,
  DEVICE_TOKEN_FORBIDDEN: 403,
  DEVICE_BOOT_TOKEN_MISSING: 401,
  DEVICE_BOOT_TOKEN_INVALID: 401,
  DEVICE_CHUNK_UNKNOWN: 404,
  DEVICE_CHUNK_DAMAGED: 500,
  DEVICE_IMAGE_NAME_INVALID: 400,
  DEVICE_IMAGE_FILE_UNKNOWN: 404,
  DEVICE_CAPTURE_CHUNK_MALFORMED: 400,
  PATH_OUTSIDE_ROOT: 403,
  PATH_INVALID: 400,
};

export function deviceStatusOf(code: string): number | undefined {
  return (STATUS as Record<string, number>)[code];
}
