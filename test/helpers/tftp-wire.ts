import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/**
 * TFTP on the wire for test clients, written apart from the product's codec so a mistake shared
 * by server and client cannot hide: packets are built and read here by hand (RFC 1350, 2347).
 */

export function rrq(file: string, options: Array<[string, string]> = [], mode = 'octet'): Buffer {
  const parts = [file, mode, ...options.flat()].map((s) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]));
  return Buffer.concat([Buffer.from([0, 1]), ...parts]);
}

export function ack(block: number): Buffer {
  return Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]);
}

export function error(code: number, message: string): Buffer {
  return Buffer.concat([Buffer.from([0, 5, code >> 8, code & 0xff]), Buffer.from(message, 'latin1'), Buffer.from([0])]);
}

export type Reply =
  | { op: 'DATA'; block: number; data: Buffer }
  | { op: 'OACK'; options: Record<string, string> }
  | { op: 'ERROR'; code: number; message: string }
  | { op: 'OTHER'; bytes: string };

export function parseReply(buf: Buffer): Reply {
  const op = buf.length >= 2 ? buf.readUInt16BE(0) : -1;
  if (op === 3 && buf.length >= 4) return { op: 'DATA', block: buf.readUInt16BE(2), data: buf.subarray(4) };
  if (op === 5 && buf.length >= 4) {
    const end = buf.indexOf(0, 4);
    return {
      op: 'ERROR',
      code: buf.readUInt16BE(2),
      message: buf.toString('latin1', 4, end === -1 ? buf.length : end),
    };
  }
  if (op === 6 && buf[buf.length - 1] === 0) {
    const words = buf.toString('latin1', 2, buf.length - 1).split('\0');
    const options: Record<string, string> = {};
    for (let i = 0; i + 1 < words.length; i += 2) options[words[i]!.toLowerCase()] = words[i + 1]!;
    return { op: 'OACK', options };
  }
  return { op: 'OTHER', bytes: buf.toString('hex') };
}

export interface Datagram {
  reply: Reply;
  from: RemoteInfo;
  at: number;
}

/** A client socket (one TID) with a queue of what arrived, read with a timeout. */
export class Peer {
  private readonly socket: Socket;
  private readonly queue: Datagram[] = [];
  private waiter: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (msg, from) => {
      this.queue.push({ reply: parseReply(msg), from, at: performance.now() });
      this.waiter?.();
    });
  }

  /** A peer on `port` (0: any free port). */
  static async open(port = 0): Promise<Peer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, resolve));
    return new Peer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(buf: Buffer, port: number, address: string): void {
    this.socket.send(buf, port, address);
  }

  /** The next datagram, or undefined after `timeoutMs` of silence. */
  async next(timeoutMs: number): Promise<Datagram | undefined> {
    if (this.queue.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift();
  }

  close(): void {
    this.socket.close();
  }
}
