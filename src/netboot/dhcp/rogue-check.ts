import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { NetbootError } from '../errors.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  decodeDhcp,
  DhcpDecodeError,
  encodeDhcp,
  FLAG_BROADCAST,
  HTYPE_ETHERNET,
  type DhcpMessage,
} from './codec.js';
import { getIp, getMessageType, MESSAGE_TYPE, OPTION, textBytes } from './options.js';
import { PI_VENDOR_CLASS_PREFIX } from './pi-client.js';
import { DHCP_SERVER_PORT } from './socket.js';

/**
 * Finding other DHCP servers on the deployment LAN (DESIGN §3): a DISCOVER sent from the client
 * port, and every server reply heard there. Full mode refuses to start next to one (two servers
 * hand out conflicting addresses); proxy mode needs one and only warns.
 */

export interface ForeignServer {
  /** Option 54 of its reply, else the address it answered from. */
  serverId: string;
  from: string;
  /** The address it offered (yiaddr), null for a proxy/PXE-only answer. */
  offered: string | null;
}

/** A DISCOVER that any server should answer: broadcast flag set (we listen on port 68 for broadcasts), PXE vendor class so PXE proxies answer too. */
export function probeDiscover(mac: string, xid: number): DhcpMessage {
  return {
    op: BOOTREQUEST,
    htype: HTYPE_ETHERNET,
    hlen: 6,
    hops: 0,
    xid,
    secs: 0,
    flags: FLAG_BROADCAST,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.from(mac.split(':').map((h) => parseInt(h, 16))),
    sname: '',
    file: '',
    options: new Map([
      [OPTION.MESSAGE_TYPE, Buffer.from([MESSAGE_TYPE.DISCOVER])],
      [OPTION.PARAMETER_LIST, Buffer.from([1, 3, 6, 43, 54, 60, 66])],
      [OPTION.VENDOR_CLASS, textBytes(`${PI_VENDOR_CLASS_PREFIX}:UNDI:002001`)],
    ]),
  };
}

/** A server reply heard on the LAN that did not come from us. */
export function foreignServerIn(msg: DhcpMessage, from: string, ourAddress: string): ForeignServer | undefined {
  if (msg.op !== BOOTREPLY) return undefined;
  const type = getMessageType(msg.options);
  if (type !== MESSAGE_TYPE.OFFER && type !== MESSAGE_TYPE.ACK && type !== MESSAGE_TYPE.NAK) return undefined;
  const serverId = getIp(msg.options, OPTION.SERVER_ID) ?? from;
  if (serverId === ourAddress || from === ourAddress) return undefined;
  return { serverId, from, offered: msg.yiaddr === '0.0.0.0' ? null : msg.yiaddr };
}

export interface ForeignServerWatch {
  /** Sends a DISCOVER and collects the servers that answer within `ms`. */
  probe(ms: number): Promise<ForeignServer[]>;
  close(): void;
}

/** Listens on the client-port socket for replies from other servers; `onForeign` hears every one. */
export function watchForeignServers(o: {
  socket: Socket;
  interface: string;
  mac: string;
  ourAddress: string;
  onForeign: (s: ForeignServer) => void;
}): ForeignServerWatch {
  const listeners = new Set<(s: ForeignServer) => void>([o.onForeign]);
  const onMessage = (buf: Buffer, from: { address: string }) => {
    let msg: DhcpMessage;
    try {
      msg = decodeDhcp(buf);
    } catch (e) {
      if (e instanceof DhcpDecodeError) return;
      throw e;
    }
    const server = foreignServerIn(msg, from.address, o.ourAddress);
    if (server) for (const l of listeners) l(server);
  };
  o.socket.on('message', onMessage);
  return {
    async probe(ms) {
      const found = new Map<string, ForeignServer>();
      const collect = (s: ForeignServer) => found.set(s.serverId, s);
      listeners.add(collect);
      try {
        const packet = encodeDhcp(probeDiscover(o.mac, randomInt(2 ** 31)));
        await new Promise<void>((resolve, reject) =>
          o.socket.send(packet, DHCP_SERVER_PORT, '255.255.255.255', (err) =>
            err
              ? reject(
                  new NetbootError(
                    'DHCP_SOCKET_FAILED',
                    `Cannot send a DHCP probe on ${o.interface}: ${err.message}; check that the interface is up`,
                    { interface: o.interface },
                    { cause: err },
                  ),
                )
              : resolve(),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, ms));
      } finally {
        listeners.delete(collect);
      }
      return [...found.values()];
    },
    close() {
      o.socket.off('message', onMessage);
    },
  };
}
