import { AppError, type ErrorKind } from '../lib/errors.js';

export type FleetErrorCode =
  | 'FLEET_INPUT_INVALID'
  | 'FLEET_VENUE_CODE_INVALID'
  | 'FLEET_VENUE_UNKNOWN'
  | 'FLEET_VENUE_EXISTS'
  | 'FLEET_VENUE_IN_USE'
  | 'FLEET_PRODUCT_CODE_INVALID'
  | 'FLEET_PRODUCT_UNKNOWN'
  | 'FLEET_PRODUCT_EXISTS'
  | 'FLEET_PRODUCT_IN_USE'
  | 'FLEET_PRODUCT_NOT_POOLED'
  | 'FLEET_PRODUCT_AMBIGUOUS'
  | 'FLEET_PATTERN_INVALID'
  | 'FLEET_SERIAL_INVALID'
  | 'FLEET_MAC_INVALID'
  | 'FLEET_POOL_EXHAUSTED'
  | 'FLEET_POOL_INPUT_TOO_LARGE'
  | 'FLEET_POOL_INPUT_NOT_TEXT'
  | 'FLEET_POOL_INPUT_UNCONFIRMED'
  | 'FLEET_HOSTNAME_UNKNOWN'
  | 'FLEET_HOSTNAME_TAKEN'
  | 'FLEET_HOSTNAME_ASSIGNED'
  | 'FLEET_NO_ACTIVE_BATCH'
  | 'FLEET_BATCH_UNKNOWN'
  | 'FLEET_BATCH_TRANSITION'
  | 'FLEET_DEVICE_UNKNOWN'
  | 'FLEET_DEPLOYMENT_UNKNOWN'
  | 'FLEET_DEPLOYMENT_FINISHED'
  | 'FLEET_DEPLOYMENT_ENDED'
  | 'FLEET_DEVICE_IMAGED'
  | 'FLEET_DEVICE_NAMED_ELSEWHERE'
  | 'FLEET_ENROLL_RETRY'
  | 'FLEET_NO_ACTIVE_IMAGE'
  | 'FLEET_IMAGE_NOT_CUSTOMISABLE'
  | 'FLEET_CHUNK_NOT_USED'
  | 'FLEET_RESULT_INCOMPLETE'
  | 'FLEET_SEED_UNREADABLE';

/** Every expected failure of the fleet domain; the message tells the operator what to do next. */
export class FleetError extends AppError<FleetErrorCode> {}

/** What kind of failure each fleet code is; every edge turns kinds into its own statuses. */
export const FLEET_ERROR_KINDS: Readonly<Record<FleetErrorCode, ErrorKind>> = {
  FLEET_INPUT_INVALID: 'invalid',
  FLEET_VENUE_CODE_INVALID: 'invalid',
  FLEET_VENUE_UNKNOWN: 'unknown',
  FLEET_VENUE_EXISTS: 'conflict',
  FLEET_VENUE_IN_USE: 'conflict',
  FLEET_PRODUCT_CODE_INVALID: 'invalid',
  FLEET_PRODUCT_UNKNOWN: 'unknown',
  FLEET_PRODUCT_EXISTS: 'conflict',
  FLEET_PRODUCT_IN_USE: 'conflict',
  FLEET_PRODUCT_NOT_POOLED: 'invalid',
  FLEET_PRODUCT_AMBIGUOUS: 'invalid',
  FLEET_PATTERN_INVALID: 'invalid',
  FLEET_SERIAL_INVALID: 'invalid',
  FLEET_MAC_INVALID: 'invalid',
  FLEET_POOL_EXHAUSTED: 'conflict',
  FLEET_POOL_INPUT_TOO_LARGE: 'invalid',
  FLEET_POOL_INPUT_NOT_TEXT: 'invalid',
  FLEET_POOL_INPUT_UNCONFIRMED: 'invalid',
  FLEET_HOSTNAME_UNKNOWN: 'unknown',
  FLEET_HOSTNAME_TAKEN: 'conflict',
  FLEET_HOSTNAME_ASSIGNED: 'conflict',
  FLEET_NO_ACTIVE_BATCH: 'conflict',
  FLEET_BATCH_UNKNOWN: 'unknown',
  FLEET_BATCH_TRANSITION: 'conflict',
  FLEET_DEVICE_UNKNOWN: 'unknown',
  FLEET_DEPLOYMENT_UNKNOWN: 'unknown',
  FLEET_DEPLOYMENT_FINISHED: 'conflict',
  FLEET_DEPLOYMENT_ENDED: 'conflict',
  FLEET_DEVICE_IMAGED: 'conflict',
  FLEET_DEVICE_NAMED_ELSEWHERE: 'conflict',
  FLEET_ENROLL_RETRY: 'failed',
  FLEET_NO_ACTIVE_IMAGE: 'unknown',
  FLEET_IMAGE_NOT_CUSTOMISABLE: 'conflict',
  FLEET_CHUNK_NOT_USED: 'invalid',
  FLEET_RESULT_INCOMPLETE: 'conflict',
  FLEET_SEED_UNREADABLE: 'invalid',
};

/** For `checkSchema`: a malformed field becomes FLEET_INPUT_INVALID naming the field. */
export function invalidInput(problem: { path: string; message: string }): never {
  throw new FleetError('FLEET_INPUT_INVALID', `${problem.path} ${problem.message}`, { field: problem.path });
}
