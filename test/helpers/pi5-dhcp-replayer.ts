import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { startCapture, type CapturedUdp } from './capture.js';

/**
 * Replays the DHCP half of a Raspberry Pi 5 EEPROM network boot (docs/pi5-netboot.md §1.1) and
 * checks every reply byte the bootloader depends on (§1.3). Independent of the product's codec:
 * packets are written and read here by hand, so a shared mistake cannot hide.
 *
 * Run inside a client namespace whose interface has no address and a route for 255.255.255.255:
 *   node --import tsx test/helpers/pi5-dhcp-replayer.ts '<ReplayOptions as JSON>'
 * It prints a ReplayResult as JSON. Replies are read with tcpdump, as the bootloader reads
 * frames: a broadcast to the subnet reaches it although it has no address yet.
 */

export interface ReplayOptions {
  iface: string;
  mac: string;
  /** Low 32 bits of the serial, 8 hex digits. */
  serial8: string;
  model?: 'pi4' | 'pi5';
  /** `le`: option 97 starts 52 50 69 35 ("RPi5"), `be`: 35 69 50 52. */
  guidOrder?: 'le' | 'be';
  /** The 2020 bootloader's REQUEST had no option 60 (rpi-eeprom#87). */
  requestWithout60?: boolean;
  /** The address whose boot options must be in the replies (our server), or null to expect none. */
  tftpServer: string | null;
  /** How long to keep collecting OFFERs after the first one (the Pi merges a proxy and an address offer). */
  collectMs?: number;
  /** DISCOVERs sent before giving up, DHCP_REQ_TIMEOUT apart. */
  attempts?: number;
  retryMs?: number;
}

export interface ReplyView {
  from: string;
  ipDst: string;
  ethDst: string;
  type: number | null;
  yiaddr: string;
  siaddr: string;
  /** Option code → value in hex. */
  options: Record<number, string>;
}

export interface ReplayResult {
  offers: ReplyView[];
  ack: ReplyView | null;
  /** The address the board ends up with, from whichever server gave one. */
  address: string | null;
  /** The server whose boot options the board would use (siaddr of the pseudo-PXE reply). */
  bootServer: string | null;
  problems: string[];
}

/** The 14-item parameter request list of the Pi 4/5 bootloader. */
export const PI_PRL = [1, 3, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135];
export const PI_VENDOR_CLASS = 'PXEClient:Arch:00000:UNDI:002001';
/** What dnsmasq sends for pxe-service=0,"Raspberry Pi Boot" (docs/pi5-netboot.md §1.3). */
export const RPI_OPTION43_HEX =
  '060103' + '0a0400505845' + '0914000011' + Buffer.from('Raspberry Pi Boot').toString('hex') + 'ff';

export function option97(o: Pick<ReplayOptions, 'mac' | 'serial8' | 'model' | 'guidOrder'>): Buffer {
  const le = (o.guidOrder ?? 'le') === 'le';
  const fourcc = Buffer.from(o.model === 'pi4' ? 'RPi4' : 'RPi5', 'latin1');
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(n);
    else b.writeUInt32BE(n);
    return b;
  };
  const macTail = Buffer.from(
    o.mac
      .split(':')
      .slice(2)
      .map((h) => parseInt(h, 16)),
  );
  return Buffer.concat([
    Buffer.from([0]),
    le ? fourcc : Buffer.from(fourcc).reverse(),
    u32(o.model === 'pi4' ? 0x00c03112 : 0x00d04170),
    le ? macTail : Buffer.from(macTail).reverse(),
    u32(parseInt(o.serial8, 16)),
  ]);
}

export function option(code: number, value: Buffer | number[] | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  return Buffer.concat([Buffer.from([code, v.length]), v]);
}

/** A bootloader BOOTREQUEST: flags 0 (no broadcast bit), no ciaddr, no option 61. */
export function bootloaderPacket(o: ReplayOptions, xid: number, type: 1 | 3, extra: Buffer[] = []): Buffer {
  const head = Buffer.alloc(236);
  head[0] = 1;
  head[1] = 1;
  head[2] = 6;
  head.writeUInt32BE(xid, 4);
  Buffer.from(o.mac.split(':').map((h) => parseInt(h, 16))).copy(head, 28);
  const withVendor = !(type === 3 && o.requestWithout60);
  return Buffer.concat([
    head,
    Buffer.from([0x63, 0x82, 0x53, 0x63]),
    option(53, [type]),
    option(55, PI_PRL),
    ...(withVendor ? [option(60, PI_VENDOR_CLASS)] : []),
    option(93, [0, 0]),
    option(94, [1, 2, 1]),
    option(97, option97(o)),
    ...extra,
    Buffer.from([255]),
  ]);
}

/** Reads a BOOTREPLY with its own minimal parser. */
export function viewReply(p: CapturedUdp): ReplyView | undefined {
  const b = p.payload;
  if (b.length < 240 || b[0] !== 2 || b.readUInt32BE(236) !== 0x63825363) return undefined;
  const options: Record<number, string> = {};
  for (let i = 240; i < b.length && b[i] !== 255;) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    options[b[i]!] = (options[b[i]!] ?? '') + b.subarray(i + 2, i + 2 + len).toString('hex');
    i += 2 + len;
  }
  const ip = (o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  return {
    from: p.ipSrc,
    ipDst: p.ipDst,
    ethDst: p.ethDst,
    type: options[53] ? parseInt(options[53], 16) : null,
    yiaddr: ip(16),
    siaddr: ip(20),
    options,
  };
}

const hexIp = (ip: string) => Buffer.from(ip.split('.').map(Number)).toString('hex');
const hexText = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const isBootReply = (r: ReplyView) => r.options[43]?.includes(hexText('Raspberry Pi Boot')) ?? false;

/** Every byte the bootloader depends on in a reply that is meant to carry our boot options. */
export function checkBootReply(r: ReplyView, o: ReplayOptions, what: string): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, text: string) => ok || problems.push(`${what}: ${text}`);
  const server = o.tftpServer!;
  expect(
    r.ethDst === 'ff:ff:ff:ff:ff:ff',
    `Ethernet destination ${r.ethDst}: the board has no address and sets no broadcast flag, so only a broadcast frame reaches it`,
  );
  expect(r.options[60] === hexText('PXEClient'), `option 60 is ${r.options[60]}, not "PXEClient"`);
  expect(r.options[43] === RPI_OPTION43_HEX, `option 43 is ${r.options[43]}, not the 32-byte "Raspberry Pi Boot" menu`);
  expect(r.options[66] === hexText(server), `option 66 is ${r.options[66]}, not the dotted quad "${server}"`);
  expect(r.siaddr === server, `siaddr is ${r.siaddr}, not ${server}`);
  expect(r.options[54] === hexIp(server), `option 54 is ${r.options[54]}, not ${server}`);
  expect(r.options[97] === option97(o).toString('hex'), `option 97 is not echoed (${r.options[97]})`);
  return problems;
}

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const capture = await startCapture({ iface: o.iface, filter: 'udp dst port 68' });
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(68, resolve));
  socket.setBroadcast(true);
  const send = (packet: Buffer) =>
    new Promise<void>((resolve, reject) =>
      socket.send(packet, 67, '255.255.255.255', (e) => (e ? reject(e) : resolve())),
    );
  const xid = randomInt(2 ** 32);
  const mine = (p: CapturedUdp) => p.payload.length >= 240 && p.payload.readUInt32BE(4) === xid;
  const problems: string[] = [];
  try {
    let first: CapturedUdp | undefined;
    for (let i = 0; i < (o.attempts ?? 3) && !first; i++) {
      await send(bootloaderPacket(o, xid, 1));
      first = await capture.waitFor((p) => mine(p) && viewReply(p)?.type === 2, o.retryMs ?? 4000);
    }
    await new Promise((r) => setTimeout(r, o.collectMs ?? 1500));
    const offers = capture.packets
      .filter(mine)
      .map(viewReply)
      .filter((r): r is ReplyView => r?.type === 2);
    const addressOffer = offers.find((r) => r.yiaddr !== '0.0.0.0');
    const bootOffer = offers.find(isBootReply);
    if (o.tftpServer === null) {
      if (bootOffer) problems.push(`got boot options from ${bootOffer.from} although none were expected`);
    } else if (!bootOffer) {
      problems.push('no OFFER carried the Raspberry Pi boot options');
    } else {
      problems.push(...checkBootReply(bootOffer, o, 'OFFER'));
    }
    let ack: ReplyView | null = null;
    if (addressOffer) {
      const serverId = Buffer.from(addressOffer.options[54] ?? '', 'hex');
      await send(
        bootloaderPacket(o, xid, 3, [option(50, addressOffer.yiaddr.split('.').map(Number)), option(54, serverId)]),
      );
      const got = await capture.waitFor((p) => mine(p) && [5, 6].includes(viewReply(p)?.type ?? 0), o.retryMs ?? 4000);
      ack = got ? viewReply(got)! : null;
      if (!ack || ack.type !== 5)
        problems.push(`REQUEST for ${addressOffer.yiaddr} got ${ack ? 'a NAK' : 'no answer'}`);
      else if (ack.yiaddr !== addressOffer.yiaddr)
        problems.push(`ACK gives ${ack.yiaddr}, the OFFER ${addressOffer.yiaddr}`);
      else if (o.tftpServer !== null && ack.from === o.tftpServer) problems.push(...checkBootReply(ack, o, 'ACK'));
    }
    return {
      offers,
      ack,
      address: ack?.type === 5 ? ack.yiaddr : null,
      bootServer: bootOffer?.siaddr ?? null,
      problems,
    };
  } finally {
    socket.close();
    await capture.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await replay(JSON.parse(process.argv[2] ?? '{}') as ReplayOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
