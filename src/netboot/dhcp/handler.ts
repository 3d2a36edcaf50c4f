import { isHostIn, type Subnet } from '../../lib/ipv4.js';
import { BOOTREQUEST, HTYPE_ETHERNET, type DhcpMessage } from './codec.js';
import type { LeaseClient, LeaseService } from './leases.service.js';
import type { DhcpObserver } from './observer.js';
import { getIp, getMessageType, getText, MESSAGE_TYPE, OPTION } from './options.js';
import { identifyPi, macOf, type PiClient } from './pi-client.js';
import { buildReply, type AddressGrant, type ServerInfo } from './reply.js';

/**
 * The DHCP conversation, one message at a time (smee's handler/reservation and handler/proxy in
 * one place): full mode hands out addresses, with boot options for Pis that may netboot; proxy
 * mode answers only Pi DISCOVERs, with boot options and no address. Returns the replies to send.
 */

/** Whether a board may be offered network boot: finished boards may not, until re-imaged. */
export type NetbootGate = (serial8: string | null) => Promise<{ allowed: boolean; reason: string }>;

export interface HandlerOptions {
  mode: 'full' | 'proxy';
  server: ServerInfo;
  subnet: Subnet;
  /** This host's MAC on the LAN: our own probe DISCOVERs are not answered. */
  ownMac: string;
  /** Full mode only. */
  leases: LeaseService | null;
  grant: Omit<AddressGrant, 'yiaddr'>;
  declineHoldSeconds: number;
  gate: NetbootGate;
  observer: DhcpObserver;
  clock: () => Date;
}

export type DhcpHandler = (request: DhcpMessage) => Promise<DhcpMessage[]>;

/** Pis seen in a DISCOVER, so their REQUEST counts as a Pi's even without option 60 (rpi-eeprom#87). */
const PI_MEMORY_MS = 5 * 60_000;
const PI_MEMORY_MAX = 10_000;

export function createDhcpHandler(o: HandlerOptions): DhcpHandler {
  const recentPis = new Map<string, { pi: PiClient; at: number }>();

  function rememberPi(request: DhcpMessage): PiClient | undefined {
    const now = o.clock().getTime();
    const mac = macOf(request);
    const pi = identifyPi(request);
    const known = recentPis.get(mac);
    if (pi) {
      if (recentPis.size >= PI_MEMORY_MAX) recentPis.clear();
      const merged = {
        ...pi,
        serial8: pi.serial8 ?? known?.pi.serial8 ?? null,
        model: pi.model ?? known?.pi.model ?? null,
      };
      recentPis.set(mac, { pi: merged, at: now });
      return merged;
    }
    return known && now - known.at < PI_MEMORY_MS ? known.pi : undefined;
  }

  function clientOf(request: DhcpMessage, pi: PiClient | undefined): LeaseClient {
    const mac = macOf(request);
    const id = request.options.get(OPTION.CLIENT_ID);
    const serial8 = pi?.serial8 ?? (o.leases && pi ? o.leases.serialOfMac(mac) : null);
    // Option 12 is client-chosen text that ends up in tables on an operator's terminal: printable ASCII only.
    const hostname =
      getText(request.options, OPTION.HOSTNAME)
        ?.replace(/[^\x21-\x7e]/g, '')
        .slice(0, 63) || null;
    return { key: id && id.length > 0 ? `id:${id.toString('hex')}` : mac, mac, serial8, hostname };
  }

  /** Boot options only for Pis the fleet still wants to netboot. */
  async function bootFor(
    pi: PiClient | undefined,
    client: LeaseClient,
  ): Promise<{ boot: { option97: Buffer | null } | null; reason: string }> {
    if (!pi) return { boot: null, reason: 'not a Raspberry Pi bootloader' };
    const verdict = await o.gate(client.serial8);
    return { boot: verdict.allowed ? { option97: pi.option97 } : null, reason: verdict.reason };
  }

  const reply = (request: DhcpMessage, spec: Parameters<typeof buildReply>[1]) => [buildReply(request, spec, o.server)];
  const grantOf = (yiaddr: string) => ({ ...o.grant, yiaddr });

  async function discover(request: DhcpMessage, pi: PiClient | undefined, client: LeaseClient): Promise<DhcpMessage[]> {
    if (o.mode === 'proxy' && !pi) return [];
    const { boot, reason } = await bootFor(pi, client);
    let yiaddr: string | null = null;
    if (o.leases) {
      yiaddr = (await o.leases.offer(client, getIp(request.options, OPTION.REQUESTED_IP), o.clock())) ?? null;
      if (yiaddr === null) {
        o.observer.publish('dhcp.warning', {
          code: 'DHCP_POOL_EXHAUSTED',
          message: `No free address for ${client.mac}: every address of the range is leased; widen netboot.dhcp.range`,
        });
      }
    }
    if (pi)
      o.observer.seen({
        mac: client.mac,
        serial8: client.serial8,
        model: pi.model,
        ip: yiaddr,
        mode: o.mode,
        netboot: boot !== null,
        reason,
      });
    if (o.mode === 'full' && yiaddr === null) return [];
    if (o.mode === 'proxy' && !boot) return [];
    o.observer.publish('dhcp.offer', {
      mac: client.mac,
      serial8: client.serial8,
      ip: yiaddr,
      bootOptions: boot !== null,
    });
    return reply(request, { type: MESSAGE_TYPE.OFFER, grant: yiaddr === null ? null : grantOf(yiaddr), boot });
  }

  async function request(
    req: DhcpMessage,
    pi: PiClient | undefined,
    client: LeaseClient,
    leases: LeaseService,
  ): Promise<DhcpMessage[]> {
    const serverId = getIp(req.options, OPTION.SERVER_ID);
    const requested = getIp(req.options, OPTION.REQUESTED_IP);
    const now = o.clock();
    if (serverId !== undefined && serverId !== o.server.address) {
      await leases.withdrawOffer(client, now); // SELECTING another server's offer
      return [];
    }
    const selecting = serverId !== undefined;
    const ip = requested ?? (req.ciaddr !== '0.0.0.0' ? req.ciaddr : undefined);
    if (ip === undefined) return [];
    const nak = (why: string) => {
      o.observer.publish('dhcp.nak', { mac: client.mac, ip, reason: why });
      return reply(req, { type: MESSAGE_TYPE.NAK, grant: null, boot: null, message: why });
    };
    if (!isHostIn(o.subnet, ip)) return nak(`${ip} is not on this network`);
    const verdict = await leases.request(client, ip, now);
    if (verdict === 'nak') return nak(`${ip} is not available to this client`);
    // RFC 2131 §4.3.2: no record of the client: silent, unless it answers our own offer.
    if (verdict === 'unknown') return selecting ? nak(`${ip} was not offered to this client`) : [];
    const { boot } = await bootFor(pi, client);
    o.observer.publish('dhcp.ack', {
      mac: client.mac,
      serial8: client.serial8,
      ip,
      leaseSeconds: o.grant.leaseSeconds,
      bootOptions: boot !== null,
    });
    return reply(req, { type: MESSAGE_TYPE.ACK, grant: grantOf(ip), boot });
  }

  return async (req) => {
    if (req.op !== BOOTREQUEST || req.htype !== HTYPE_ETHERNET || req.hlen !== 6) return [];
    const mac = macOf(req);
    if (mac === o.ownMac) return [];
    const type = getMessageType(req.options);
    const pi = rememberPi(req);
    const client = clientOf(req, pi);
    const serverId = getIp(req.options, OPTION.SERVER_ID);
    const forUs = serverId === undefined || serverId === o.server.address;
    const now = o.clock();

    if (type === MESSAGE_TYPE.DISCOVER) return discover(req, pi, client);
    if (!o.leases) return []; // proxy mode answers DISCOVERs only, as dnsmasq's proxy does on port 67
    switch (type) {
      case MESSAGE_TYPE.REQUEST:
        return request(req, pi, client, o.leases);
      case MESSAGE_TYPE.DECLINE: {
        const ip = getIp(req.options, OPTION.REQUESTED_IP);
        if (forUs && ip && (await o.leases.decline(client, ip, now))) {
          o.observer.record('dhcp.declined', { mac, ip, holdSeconds: o.declineHoldSeconds });
        }
        return [];
      }
      case MESSAGE_TYPE.RELEASE:
        if (forUs) await o.leases.release(client, req.ciaddr, now);
        return [];
      case MESSAGE_TYPE.INFORM:
        // RFC 2131 §4.3.5: configuration for a client that has its address already; unicast to ciaddr.
        if (req.ciaddr === '0.0.0.0') return [];
        return reply(req, { type: MESSAGE_TYPE.ACK, grant: grantOf(req.ciaddr), boot: null, inform: true });
      default:
        return [];
    }
  };
}
