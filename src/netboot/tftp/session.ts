import { decodePacket, decodeShortPacket, encodeError, encodeOack, type TftpOption } from './codec.js';
import { TftpError } from './errors.js';
import { dataPackets, type DataPackets } from './packets.js';
import { onAck, onClientError, onTick, startTransfer, type Outcome, type Step, type Transfer, type TransferParams } from './transfer.js';
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
 * address or port before they reach us.
 */
export class TftpSession {
  private t!: Transfer;
  private socket!: TransferSocket;
  /** Built on the first DATA: a probe (tsize, then "Early terminate") never needs them. */
  private packets: DataPackets | undefined;
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
    if (!this.ended) this.apply(onTick(this.t, now));
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
    if (packet.op === 'ACK') this.apply(onAck(this.t, packet.block, this.o.now()));
    else if (packet.op === 'ERROR') this.apply(onClientError(this.t));
  }

  private apply([t, effects]: Step): void {
    this.t = t;
    for (const e of effects) {
      switch (e.kind) {
        case 'oack':
          this.send(encodeOack(this.o.oack ?? []));
          break;
        case 'data': {
          const packets = (this.packets ??= dataPackets(this.o.bytes, t.blksize));
          this.send(e.first === e.last ? packets.packet(e.first) : Array.from({ length: e.last - e.first + 1 }, (_, i) => packets.packet(e.first + i)));
          break;
        }
        case 'error':
          this.send(encodeError(e.code, e.message));
          break;
        case 'end':
          this.finish(e.outcome);
          break;
      }
    }
  }

  /** One datagram, or a window of them in one system call. */
  private send(msg: Buffer | Buffer[]): void {
    if (this.closed) return;
    if (Array.isArray(msg)) this.socket.sendMany(msg);
    else this.socket.send(msg);
  }

  private finish(outcome: Outcome): void {
    if (this.ended) return;
    this.ended = true;
    this.o.onEnd(outcome);
    // Sends are system calls that have returned: the last datagram (an ERROR) has left.
    this.close();
  }
}
