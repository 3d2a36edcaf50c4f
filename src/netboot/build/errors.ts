import { AppError } from '../../lib/errors.js';

export type BuildErrorCode =
  | 'NETBOOT_BUILD_TOOL_MISSING'
  | 'NETBOOT_BUILD_APT_FAILED'
  | 'NETBOOT_BUILD_NPM_FAILED'
  | 'NETBOOT_BUILD_AGENT_MISSING'
  | 'NETBOOT_BUILD_INPUT_INVALID';

/** `rpi-deploy netboot build` could not assemble stage 1 or the runtime bundle; the message says what to do. */
export class BuildError extends AppError<BuildErrorCode> {}
