import { constants } from 'node:os';
import type { TftpClient } from './session.js';
import { TftpError } from './errors.js';
import { nativeAddon } from '../native-addon.js';

/**
 * The socket of one transfer (RFC 1350's transfer identifier: a fresh port, connected to the
 * client, so the kernel drops datagrams from anyone else). It comes from the native addon in
 * native/tftp-socket (built by `npm ci`), which polls the descriptor on the event loop and sends
 * with a plain system call: through dgram, each datagram of a lock-step transfer cost twice the
 * CPU of the whole TFTP exchange in dnsmasq (bench/tftp.ts).
 */
export interface TransferSocket {
  readonly port: number;
  /**
   * Sends one datagram. A full send buffer drops it (the retransmission timer recovers it, as for
   * a datagram lost on the wire); a socket error goes to `onError`.
   */
  send(msg: Buffer): void;
  /** Several datagrams in one system call (a window of DATA), same rules as `send`. */
  sendMany(msgs: Buffer[]): void;
  /** Idempotent; nothing is delivered after it. */
  close(): void;
}

interface NativeTftpSocket {
  open(address: string, clientAddress: string, clientPort: number, bufferBytes: number, onDatagram: (msg: Buffer | number | null, code?: string) => void): { handle: object; port: number };
  send(handle: object, msg: Buffer): number;
  sendMany(handle: object, msgs: Buffer[]): number;
  close(handle: object): void;
}

/** send() results that mean "not sent this time", not "this transfer is broken". */
const NOT_NOW: ReadonlySet<number> = new Set([constants.errno.EAGAIN, constants.errno.ENOBUFS]);

/** The addon, loaded once; the server calls this at start so a missing build stops it there. */
export const transferSockets = nativeAddon<NativeTftpSocket>(
  'tftp-socket',
  (message, cause) => new TftpError('NETBOOT_TFTP_NATIVE_MISSING', `The TFTP transfer socket helper is not built (${message})`, {}, { cause }),
);

export function openTransferSocket(o: {
  address: string;
  client: TftpClient;
  bufferBytes: number;
  /** Each datagram; a 4-byte one (an ACK) as one big-endian number, see `decodeShortPacket`. */
  onDatagram(msg: Buffer | number): void;
  /** The socket failed (ECONNREFUSED: the client's port closed); the errno name. */
  onError(code: string): void;
}): TransferSocket {
  const native = transferSockets();
  let opened: { handle: object; port: number };
  try {
    opened = native.open(o.address, o.client.address, o.client.port, o.bufferBytes, (msg, code) => (msg === null ? o.onError(code ?? 'EUNKNOWN') : o.onDatagram(msg)));
  } catch (cause) {
    throw new TftpError('NETBOOT_TFTP_SOCKET_FAILED', `Cannot open a TFTP transfer socket on ${o.address} for ${o.client.address}:${o.client.port}: ${(cause as Error).message}`, {
      address: o.address,
    }, { cause });
  }
  const { handle, port } = opened;
  let closed = false;
  const sent = (err: number) => {
    if (err !== 0 && !NOT_NOW.has(err)) o.onError(`errno ${err}`);
  };
  return {
    port,
    send(msg) {
      if (!closed) sent(native.send(handle, msg));
    },
    sendMany(msgs) {
      if (!closed) sent(native.sendMany(handle, msgs));
    },
    close() {
      if (closed) return;
      closed = true;
      native.close(handle);
    },
  };
}
