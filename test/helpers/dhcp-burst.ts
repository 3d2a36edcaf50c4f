import { createSocket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { option } from './pi5-dhcp-replayer.js';

/**
 * A venue switching on: `clients` boards (distinct MACs) each run DISCOVER → OFFER → REQUEST →
 * ACK, their DISCOVERs spread evenly over `spreadMs`. Run inside a namespace whose `eth0` has an
 * address on the LAN (so broadcast replies arrive on a plain UDP socket):
 *   node --import tsx test/helpers/dhcp-burst.ts '<BurstOptions as JSON>'
 * Prints a BurstResult as JSON. Used by the namespace tests and by bench/dhcp-burst.ts.
 */

export interface BurstOptions {
  clients: number;
  spreadMs: number;
  /** Distinguishes the MACs of several bursts against one server. */
  macPrefix: string;
  /** Give up on a client after this long. */
  timeoutMs: number;
  /** Resend a DISCOVER or REQUEST that got no answer after this long (0: never). */
  retryMs: number;
}

export interface BurstResult {
  sent: number;
  offered: number;
  acked: number;
  naks: number;
  /** MAC → the address its ACK gave. */
  leases: Record<string, string>;
  /** DISCOVER → first OFFER and DISCOVER → ACK, in ms, for the clients that got them. */
  offerMs: number[];
  ackMs: number[];
  elapsedMs: number;
}

const BROADCAST_FLAG = 0x8000;

function packet(mac: Buffer, xid: number, type: number, extra: Buffer[] = []): Buffer {
  const head = Buffer.alloc(236);
  head[0] = 1;
  head[1] = 1;
  head[2] = 6;
  head.writeUInt32BE(xid, 4);
  head.writeUInt16BE(BROADCAST_FLAG, 10);
  mac.copy(head, 28);
  return Buffer.concat([
    head,
    Buffer.from([0x63, 0x82, 0x53, 0x63]),
    option(53, [type]),
    option(55, [1, 3, 6, 51, 54]),
    ...extra,
    Buffer.from([255]),
  ]);
}

function optionOf(b: Buffer, code: number): Buffer | undefined {
  for (let i = 240; i < b.length && b[i] !== 255;) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (b[i] === code) return b.subarray(i + 2, i + 2 + len);
    i += 2 + len;
  }
  return undefined;
}

export async function burst(o: BurstOptions): Promise<BurstResult> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(68, resolve));
  socket.setBroadcast(true);
  const send = (b: Buffer) => socket.send(b, 67, '255.255.255.255');
  const noServerId: Buffer = Buffer.alloc(0);
  const clients = Array.from({ length: o.clients }, (_, i) => {
    const mac = Buffer.from(`${o.macPrefix}${i.toString(16).padStart(4, '0')}`.replace(/:/g, ''), 'hex');
    return {
      mac,
      xid: 0x10000000 + i,
      startedAt: 0,
      offerAt: 0,
      ackAt: 0,
      offer: '',
      serverId: noServerId,
      ack: '',
      nak: false,
      lastSentAt: 0,
    };
  });
  const byXid = new Map(clients.map((c) => [c.xid, c]));
  const started = performance.now();
  let naks = 0;

  const request = (c: (typeof clients)[number]) => {
    c.lastSentAt = performance.now();
    send(packet(c.mac, c.xid, 3, [option(50, c.offer.split('.').map(Number)), option(54, c.serverId)]));
  };
  socket.on('message', (b) => {
    if (b.length < 240 || b[0] !== 2) return;
    const c = byXid.get(b.readUInt32BE(4));
    const type = optionOf(b, 53)?.[0];
    if (!c) return;
    const now = performance.now();
    const yiaddr = `${b[16]}.${b[17]}.${b[18]}.${b[19]}`;
    if (type === 2 && !c.offerAt) {
      c.offerAt = now;
      c.offer = yiaddr;
      c.serverId = optionOf(b, 54) ?? Buffer.alloc(4);
      request(c);
    } else if (type === 5 && !c.ackAt) {
      c.ackAt = now;
      c.ack = yiaddr;
    } else if (type === 6 && !c.ackAt) {
      naks++;
      c.nak = true;
    }
  });

  const done = () => clients.every((c) => c.ackAt || c.nak);
  await new Promise<void>((resolve) => {
    clients.forEach((c, i) =>
      setTimeout(
        () => {
          c.startedAt = c.lastSentAt = performance.now();
          send(packet(c.mac, c.xid, 1));
        },
        (o.spreadMs * i) / o.clients,
      ),
    );
    const tick = setInterval(() => {
      const now = performance.now();
      if (done() || now - started > o.spreadMs + o.timeoutMs) {
        clearInterval(tick);
        resolve();
        return;
      }
      if (o.retryMs <= 0) return;
      for (const c of clients) {
        if (!c.startedAt || c.ackAt || c.nak || now - c.lastSentAt < o.retryMs) continue;
        if (c.offerAt) request(c);
        else {
          c.lastSentAt = now;
          send(packet(c.mac, c.xid, 1));
        }
      }
    }, 20);
  });
  socket.close();

  const hex = (m: Buffer) => [...m].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return {
    sent: clients.filter((c) => c.startedAt).length,
    offered: clients.filter((c) => c.offerAt).length,
    acked: clients.filter((c) => c.ackAt).length,
    naks,
    leases: Object.fromEntries(clients.filter((c) => c.ack).map((c) => [hex(c.mac), c.ack])),
    offerMs: clients.filter((c) => c.offerAt).map((c) => c.offerAt - c.startedAt),
    ackMs: clients.filter((c) => c.ackAt).map((c) => c.ackAt - c.startedAt),
    elapsedMs: performance.now() - started,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await burst(JSON.parse(process.argv[2] ?? '{}') as BurstOptions))}\n`);
}
