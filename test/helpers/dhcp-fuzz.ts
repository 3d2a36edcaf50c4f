import { createSocket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { bootloaderPacket } from './pi5-dhcp-replayer.js';

/**
 * Hostile and broken DHCP packets from a seeded generator: random bytes, every truncation of a
 * real bootloader packet, and real packets with random bytes overwritten (which keeps many of them
 * decodable, so they reach the handler and the database). Deterministic per seed.
 */

/** mulberry32: small, fast, good enough to vary test input reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Message types the fuzzer puts in front of random options: DISCOVER, REQUEST, DECLINE, RELEASE, INFORM. */
const MESSAGE_TYPES = [1, 3, 4, 7, 8];

export function* fuzzPackets(seed: number, count: number): Generator<Buffer> {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const valid = (i: number) =>
    bootloaderPacket(
      {
        iface: 'eth0',
        mac: `2c:cf:67:fe:${hex((i >> 8) & 255)}:${hex(i & 255)}`,
        serial8: (i + 1).toString(16).padStart(8, '0'),
        tftpServer: null,
      },
      i,
      i % 2 === 0 ? 1 : 3,
    );
  for (let i = 0; i < count; i++) {
    const base = valid(i);
    switch (i % 4) {
      case 0: {
        const b = Buffer.alloc(int(700));
        for (let j = 0; j < b.length; j++) b[j] = int(256);
        yield b;
        break;
      }
      case 1:
        yield base.subarray(0, int(base.length + 1));
        break;
      case 2: {
        const b = Buffer.from(base);
        for (let n = 1 + int(8); n > 0; n--) b[int(b.length)] = int(256);
        yield b;
        break;
      }
      default: {
        // A valid header and magic cookie followed by random option bytes, with a real message type.
        const tail = Buffer.alloc(int(400));
        for (let j = 0; j < tail.length; j++) tail[j] = int(256);
        const b = Buffer.concat([
          base.subarray(0, 240),
          Buffer.from([53, 1, MESSAGE_TYPES[int(MESSAGE_TYPES.length)]!]),
          tail,
        ]);
        yield b;
      }
    }
  }
}

/** Sends `count` fuzz packets to the server port, half broadcast, half to `unicast`, in small paced batches. */
export async function fuzzServer(o: { seed: number; count: number; unicast: string }): Promise<{ sent: number }> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(68, resolve));
  socket.setBroadcast(true);
  let sent = 0;
  for (const p of fuzzPackets(o.seed, o.count)) {
    await new Promise<void>((resolve) =>
      socket.send(p, 67, sent % 2 === 0 ? '255.255.255.255' : o.unicast, () => resolve()),
    );
    sent++;
    if (sent % 50 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  socket.close();
  return { sent };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(
    `${JSON.stringify(await fuzzServer(JSON.parse(process.argv[2] ?? '{}') as { seed: number; count: number; unicast: string }))}\n`,
  );
}
