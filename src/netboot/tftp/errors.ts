import { AppError } from '../../lib/errors.js';

export type TftpErrorCode =
  | 'NETBOOT_TFTP_PACKET_INVALID'
  | 'NETBOOT_TFTP_LISTEN_FAILED'
  | 'NETBOOT_TFTP_NATIVE_MISSING'
  | 'NETBOOT_TFTP_SOCKET_FAILED';

/**
 * A TFTP failure. `NETBOOT_TFTP_PACKET_INVALID` is what the decoder throws for bytes that are
 * not a TFTP packet (`details.reason` says why); the server counts and skips those (R8).
 */
export class TftpError extends AppError<TftpErrorCode> {}

/** Error codes on the wire (RFC 1350 §5, RFC 2347 adds 8). */
export const TFTP_ERROR = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;
