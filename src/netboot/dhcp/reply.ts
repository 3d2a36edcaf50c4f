import { BOOTREPLY, FLAG_BROADCAST, type DhcpMessage } from './codec.js';
import { raspberryPiBootMenu } from './pxe-options.js';
import { ipBytes, MESSAGE_TYPE, OPTION, textBytes, u32Bytes, type MessageType } from './options.js';

/** Building replies, pure (smee's `updateMsg`/`replyDestination`): no sockets, no clock, no database. */

const ANY = '0.0.0.0';

/** What a reply says about this server and its LAN. */
export interface ServerInfo {
  /** Option 54, and siaddr/option 66 when boot options are sent (the TFTP server is this host). */
  address: string;
  netmask: string;
  /** Where broadcast replies go: the subnet broadcast, or 255.255.255.255 when so configured. */
  broadcast: string;
}

export interface AddressGrant {
  yiaddr: string;
  leaseSeconds: number;
  router: string | null;
  dnsServers: readonly string[];
}

export interface ReplySpec {
  type: MessageType;
  /** Full mode: the address and its parameters; proxy mode and INFORM: none (yiaddr 0). */
  grant: AddressGrant | null;
  /** Option 97 of the request when the reply carries Pi boot options; null: no boot options. */
  boot: { option97: Buffer | null } | null;
  /** The ACK answers an INFORM: configuration only, no address and no lease time (RFC 2131 §4.3.5). */
  inform?: boolean;
  message?: string;
}

/**
 * A reply to `request` (RFC 2131 §4.3.1, table 3): xid, flags, giaddr and chaddr copied; option
 * 54 always. With `boot`, the pseudo-PXE options a Pi bootloader needs (docs/pi5-netboot.md §1.3):
 * siaddr and option 66 (a dotted quad: the bootloader has no DNS) name this server; option 60
 * `PXEClient` with option 43's "Raspberry Pi Boot" menu make it trust siaddr/option 54; option 97
 * is echoed as dnsmasq does.
 */
export function buildReply(request: DhcpMessage, spec: ReplySpec, server: ServerInfo): DhcpMessage {
  const options = new Map<number, Buffer>([
    [OPTION.MESSAGE_TYPE, Buffer.from([spec.type])],
    [OPTION.SERVER_ID, ipBytes(server.address)],
  ]);
  const grant = spec.type === MESSAGE_TYPE.NAK ? null : spec.grant;
  if (grant && !spec.inform) {
    options.set(OPTION.LEASE_TIME, u32Bytes(grant.leaseSeconds));
    // RFC 2132 §9.11/9.12 defaults: T1 = 0.5, T2 = 0.875 of the lease.
    options.set(OPTION.RENEWAL_TIME, u32Bytes(Math.floor(grant.leaseSeconds / 2)));
    options.set(OPTION.REBINDING_TIME, u32Bytes(Math.floor((grant.leaseSeconds * 7) / 8)));
  }
  if (grant) {
    options.set(OPTION.SUBNET_MASK, ipBytes(server.netmask));
    if (grant.router) options.set(OPTION.ROUTER, ipBytes(grant.router));
    if (grant.dnsServers.length > 0) options.set(OPTION.DNS_SERVERS, ipBytes(...grant.dnsServers));
  }
  const boot = spec.type === MESSAGE_TYPE.NAK ? null : spec.boot;
  if (boot) {
    options.set(OPTION.VENDOR_CLASS, textBytes('PXEClient'));
    options.set(OPTION.VENDOR_SPECIFIC, raspberryPiBootMenu());
    options.set(OPTION.TFTP_SERVER_NAME, textBytes(server.address));
    if (boot.option97) options.set(OPTION.CLIENT_UUID, boot.option97);
  }
  if (spec.message) options.set(OPTION.MESSAGE, textBytes(spec.message));

  return {
    op: BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    // RFC 2131 §4.3.2: a NAK through a relay asks the relay to broadcast it.
    flags: spec.type === MESSAGE_TYPE.NAK && request.giaddr !== ANY ? request.flags | FLAG_BROADCAST : request.flags,
    ciaddr: spec.type === MESSAGE_TYPE.ACK ? request.ciaddr : ANY,
    yiaddr: grant && !spec.inform ? grant.yiaddr : ANY,
    siaddr: boot ? server.address : ANY,
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: '',
    file: '',
    options,
  };
}

/**
 * Where a reply goes (RFC 2131 §4.1): through the relay when giaddr is set (server port 67);
 * to ciaddr when the client has an address (RENEWING, REBINDING, INFORM); a NAK, or a client
 * without an address, gets a broadcast on the deployment LAN. RFC 2131 would unicast to yiaddr
 * when the broadcast bit is clear, which needs an ARP entry user space cannot make; the Pi
 * bootloader never sets the bit and accepts broadcasts, as dnsmasq's PXE replies show.
 */
export function replyDestination(
  request: DhcpMessage,
  reply: DhcpMessage,
  server: ServerInfo,
): { address: string; port: number } {
  if (request.giaddr !== ANY) return { address: request.giaddr, port: 67 };
  const type = reply.options.get(OPTION.MESSAGE_TYPE)?.[0];
  if (type !== MESSAGE_TYPE.NAK && request.ciaddr !== ANY) return { address: request.ciaddr, port: 68 };
  return { address: server.broadcast, port: 68 };
}
