import { createSocket, type Socket } from 'node:dgram';
import { decodePacket, encodeError, encodeOack, type TftpOption } from './codec.js';
import { TftpError } from './errors.js';
import { dataPackets, type DataPackets } from './packets.js';
import { onAck, onClientError, onTick, startTransfer, type Outcome, type Step, type Transfer, type TransferParams } from './transfer.js';

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
  private readonly socket: Socket;
  /** Built on the first DATA: a probe (tsize, then "Early terminate") never needs them. */
  private packets: DataPackets | undefined;
  /** The transfer is over (the state machine said so, or the server stopped it). */
  private ended = false;
  private closed = false;

  private constructor(private readonly o: SessionOptions) {
    this.socket = createSocket({ type: 'udp4', recvBufferSize: o.socketBufferBytes, sendBufferSize: o.socketBufferBytes });
  }

  /** Opens the transfer socket and sends the first OACK or DATA. */
  static async open(o: SessionOptions): Promise<TftpSession> {
    const s = new TftpSession(o);
    try {
      await new Promise<void>((resolve, reject) => {
        s.socket.once('error', reject);
        s.socket.bind({ address: o.address, port: 0, exclusive: true }, () => s.socket.connect(o.client.port, o.client.address, () => resolve()));
      });
    } catch (err) {
      s.socket.close();
      throw err;
    }
    s.socket.on('error', () => s.finish('aborted'));
    s.socket.on('message', (msg) => s.receive(msg));
    s.apply(startTransfer(o.params, o.now()));
    return s;
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

  private receive(msg: Buffer): void {
    if (this.ended) return;
    let packet;
    try {
      packet = decodePacket(msg);
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
        case 'data':
          this.packets ??= dataPackets(this.o.bytes, t.blksize);
          for (let block = e.first; block <= e.last; block++) this.send(this.packets.packet(block));
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
    this.ended = true;
    this.o.onEnd(outcome);
    // Let the last datagram (an ERROR) leave before the socket goes.
    setImmediate(() => this.close());
  }
}
