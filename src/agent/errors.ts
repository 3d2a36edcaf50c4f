import { AppError } from '../lib/errors.js';

/** Every way the agent can fail; each ends in a `failed` result that names its code. */
export type AgentErrorCode =
  | 'AGENT_USAGE'
  | 'AGENT_IDENTITY_UNKNOWN'
  | 'AGENT_TARGET_MISSING'
  | 'AGENT_TARGET_UNSUPPORTED'
  | 'AGENT_TARGET_MOUNTED'
  | 'AGENT_TARGET_IS_BOOT_DEVICE'
  | 'AGENT_TARGET_TOO_SMALL'
  | 'AGENT_SERVER_UNREACHABLE'
  | 'AGENT_SERVER_REFUSED'
  | 'AGENT_SERVER_REPLY_INVALID'
  | 'AGENT_CHUNK_CORRUPT'
  | 'AGENT_WRITE_FAILED'
  | 'AGENT_VERIFY_MISMATCH'
  | 'AGENT_CUSTOMISE_FAILED'
  | 'AGENT_CAPTURE_FAILED'
  | 'AGENT_SUPERSEDED'
  | 'AGENT_ABORTED'
  | 'AGENT_INTERNAL';

export class AgentError extends AppError<AgentErrorCode> {}

/** A failure worth another try (a dropped connection, a restarting server), as opposed to a refusal. */
export class TransientError extends Error {}
