import { decodePacket, decodeShortPacket, encodeError, encodeOack, type TftpOption } from './codec.js';
import { TftpError } from './errors.js';
import {
  onAck,
  onClientError,
  onSocketProgress,
  onTick,
  startTransfer,
  type Outcome,
  type Step,
  type Transfer,
  type TransferParams,
} from './transfer.js';
import { openTransferSocket, type TransferSocket } from './transfer-socket.js';

/** Who asked: the client's transfer identifier (RFC 1350 §4, its address and port). */
export interface TftpClient {
  address: string;
  port: number;
}

export interface SessionOptions {
  /** The server's own address; the transfer socket binds there, on a fresh port (RFC 1350 TID). */
  address: string;
  client: TftpClient;
  bytes: Buffer;
  oack: TftpOption[] | null;
  params: TransferParams;
  socketBufferBytes: number;
  now: () => number;
  /** A datagram on the transfer socket that is not TFTP. */
  onMalformed(err: TftpError): void;
  onEnd(outcome: Outcome): void;
}

/**
 * One read transfer on its own socket: carries out what the pure state machine (transfer.ts)
 * decides. The socket is connected to the client, so the kernel drops datagrams from any other
 * address or port before they reach us, and it answers the ACKs in the middle of the file itself
 * (transfer-socket.ts); the session takes in that progress before every decision.
 */
export class TftpSession {
  private t!: Transfer;
  private socket!: TransferSocket;
  /** The transfer is over (the state machine said so, or the server stopped it). */
  private ended = false;
  private closed = false;

  private constructor(private readonly o: SessionOptions) {}

  /** Opens the transfer socket; `start` sends the first OACK or DATA. */
  static open(o: SessionOptions): TftpSession {
    const s = new TftpSession(o);
    s.socket = openTransferSocket({
      address: o.address,
      client: o.client,
      bufferBytes: o.socketBufferBytes,
      bytes: o.bytes,
      blksize: o.params.blksize,
      windowsize: o.params.windowsize,
      onDatagram: (msg) => s.receive(msg),
      onError: () => s.finish('aborted'),
    });
    return s;
  }

  /** Separate from `open`, so the owner has registered the session before it can end. */
  start(): void {
    this.apply(startTransfer(this.o.params, this.o.now()));
  }

  /** The clock beat from the server: timeouts and the deadline. */
  tick(now: number): void {
    if (this.ended) return;
    this.catchUp(now);
    this.apply(onTick(this.t, now));
  }

  /** Ends the transfer now (server stopping); nothing more is sent. */
  close(): void {
    if (this.closed) return;
    this.ended = true;
    this.closed = true;
    this.socket.close();
  }

  get transfer(): Transfer {
    return this.t;
  }

  private receive(msg: Buffer | number): void {
    if (this.ended) return;
    let packet;
    try {
      packet = typeof msg === 'number' ? decodeShortPacket(msg) : decodePacket(msg);
    } catch (err) {
      if (!(err instanceof TftpError)) throw err;
      this.o.onMalformed(err);
      return;
    }
    const now = this.o.now();
    this.catchUp(now);
    if (packet.op === 'ACK') this.apply(onAck(this.t, packet.block, now));
    else if (packet.op === 'ERROR') this.apply(onClientError(this.t));
  }

  /** Takes in the ACKs the socket answered on its own since the state machine last looked. */
  private catchUp(now: number): void {
    const p = this.socket.progress();
    this.t = onSocketProgress(this.t, p.acked, p.sent, now - p.ageMs);
  }

  private apply([t, effects]: Step): void {
    this.t = t;
    for (const e of effects) {
      switch (e.kind) {
        case 'oack':
          this.send(encodeOack(this.o.oack ?? []));
          break;
        case 'data':
          if (!this.closed) this.socket.sendBlocks(e.first, e.last);
          break;
        case 'error':
          this.send(encodeError(e.code, e.message));
          break;
        case 'end':
          this.finish(e.outcome);
          break;
      }
    }
  }

  private send(msg: Buffer): void {
    if (!this.closed) this.socket.send(msg);
  }

  private finish(outcome: Outcome): void {
    if (this.ended) return;
    // A socket error ends the transfer between two looks at its progress: the end report counts it.
    this.catchUp(this.o.now());
    this.ended = true;
    this.o.onEnd(outcome);
    // Sends are system calls that have returned: the last datagram (an ERROR) has left.
    this.close();
  }
}
