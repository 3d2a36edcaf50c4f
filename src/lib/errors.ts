/**
 * Base of every typed error in rpi-deploy. Each component declares its own union of codes
 * (`FLEET_POOL_EXHAUSTED`, `CONFIG_INVALID`, …) and a subclass; HTTP surfaces and the CLI map
 * codes to statuses and exit codes at the edge, so domain code never knows about transports.
 */
export class AppError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/**
 * What kind of failure a code is, without naming a transport: the input is wrong, the thing asked
 * for does not exist, it clashes with the current state, a byte range lies outside it, the
 * server cannot serve for now (a full disk: retry once the operator freed space), or the server
 * itself failed.
 */
export type ErrorKind = 'invalid' | 'unknown' | 'conflict' | 'out-of-range' | 'unavailable' | 'failed';

/** True for any AppError; lets edges tell expected failures from bugs. */
export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
