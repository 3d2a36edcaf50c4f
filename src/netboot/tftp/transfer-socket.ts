import type { TftpClient } from './session.js';
import { TftpError } from './errors.js';
import { nativeAddon } from '../../lib/native-addon.js';

/**
 * The socket of one transfer (RFC 1350's transfer identifier: a fresh port, connected to the
 * client, so the kernel drops datagrams from anyone else). It comes from the native addon in
 * native/tftp-socket (built by `npm ci`), which polls the descriptor on the event loop, sends DATA
 * from the file's bytes (a window as one UDP GSO send where the route allows), and answers an ACK that only moves the transfer on by itself, with the
 * rule of `onAck` in transfer.ts. A call into JavaScript per block cost more CPU than the whole
 * TFTP exchange in dnsmasq (bench/tftp.ts); now JavaScript sees the start, the end, errors and
 * timeouts, and reads how far the socket got with `progress`.
 */
export interface TransferSocket {
  readonly port: number;
  /**
   * Sends one datagram (OACK, ERROR). A full send buffer drops it (the retransmission timer
   * recovers it, as for a datagram lost on the wire); a socket error goes to `onError`.
   */
  send(msg: Buffer): void;
  /** DATA blocks `first..last` of the file (absolute numbers, 1-based), same rules as `send`. */
  sendBlocks(first: number, last: number): void;
  /** What the socket did on its own: highest block acknowledged, highest sent, and how long ago DATA last left. */
  progress(): SocketProgress;
  /** Idempotent; nothing is delivered after it. */
  close(): void;
}

export interface SocketProgress {
  acked: number;
  sent: number;
  ageMs: number;
}

interface NativeTftpSocket {
  open(
    address: string,
    clientAddress: string,
    clientPort: number,
    bufferBytes: number,
    bytes: Buffer,
    blksize: number,
    windowsize: number,
    onDatagram: (msg: Buffer | number | null, code?: string) => void,
  ): { handle: object; port: number };
  send(handle: object, msg: Buffer): number;
  sendBlocks(handle: object, first: number, last: number): number;
  progress(handle: object): [acked: number, sent: number, ageMs: number];
  close(handle: object): void;
}

/** The addon, loaded once; the server calls this at start so a missing build stops it there. */
export const transferSockets = nativeAddon<NativeTftpSocket>(
  'tftp-socket',
  (message, cause) =>
    new TftpError(
      'NETBOOT_TFTP_NATIVE_MISSING',
      `The TFTP transfer socket helper is not built (${message})`,
      {},
      { cause },
    ),
);

export function openTransferSocket(o: {
  address: string;
  client: TftpClient;
  bufferBytes: number;
  /** The file to send, its block size and window (negotiated before the socket opens). */
  bytes: Buffer;
  blksize: number;
  windowsize: number;
  /** Each datagram the socket does not answer itself; a 4-byte one (an ACK) as one big-endian number, see `decodeShortPacket`. */
  onDatagram(msg: Buffer | number): void;
  /** The socket failed (ECONNREFUSED: the client's port closed); the errno name. */
  onError(code: string): void;
}): TransferSocket {
  const native = transferSockets();
  let opened: { handle: object; port: number };
  try {
    opened = native.open(
      o.address,
      o.client.address,
      o.client.port,
      o.bufferBytes,
      o.bytes,
      o.blksize,
      o.windowsize,
      (msg, code) => (msg === null ? o.onError(code ?? 'EUNKNOWN') : o.onDatagram(msg)),
    );
  } catch (cause) {
    throw new TftpError(
      'NETBOOT_TFTP_SOCKET_FAILED',
      `Cannot open a TFTP transfer socket on ${o.address} for ${o.client.address}:${o.client.port}: ${(cause as Error).message}`,
      {
        address: o.address,
      },
      { cause },
    );
  }
  const { handle, port } = opened;
  let closed = false;
  // The addon reports a full send buffer as success (dropped like a datagram lost on the wire).
  const check = (err: number) => {
    if (err !== 0) o.onError(`errno ${err}`);
  };
  return {
    port,
    send(msg) {
      if (!closed) check(native.send(handle, msg));
    },
    sendBlocks(first, last) {
      if (!closed) check(native.sendBlocks(handle, first, last));
    },
    progress() {
      const [acked, sent, ageMs] = native.progress(handle);
      return { acked, sent, ageMs };
    },
    close() {
      if (closed) return;
      closed = true;
      native.close(handle);
    },
  };
}
