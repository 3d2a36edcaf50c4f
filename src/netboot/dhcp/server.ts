import type { Socket } from 'node:dgram';
import type { NetbootConfig } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import type { Store } from '../../store/index.js';
import { NetbootError } from '../errors.js';
import type { DeploymentLan } from '../interface.js';
import { isHostIn } from '../../lib/ipv4.js';
import { normaliseMac } from '../../lib/mac.js';
import { decodeDhcp, DhcpDecodeError, encodeDhcp } from './codec.js';
import { createDhcpHandler, type DhcpHandler, type NetbootGate } from './handler.js';
import type { Pool } from './leases.js';
import { createLeaseService } from './leases.service.js';
import { createDhcpObserver, type DhcpEventSink } from './observer.js';
import { messageTypeName } from './options.js';
import { replyDestination, type ServerInfo } from './reply.js';
import { watchForeignServers, type ForeignServer, type ForeignServerWatch } from './rogue-check.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, openDeviceSocket } from './socket.js';

/**
 * The DHCP server's shell (R5): sockets, timers and the receive loop. Every packet is decoded,
 * handed to the handler and its replies sent; a malformed packet is counted and skipped (R8).
 */

export type DhcpConfig = NetbootConfig['dhcp'];

/** A burst beyond this many packets in work at once is dropped (clients retry), so a flood cannot exhaust memory. */
export const MAX_IN_FLIGHT = 1024;
const RECV_BUFFER_BYTES = 1 << 20;
/** Distinct foreign servers reported per run; more than a handful means forged traffic. */
const MAX_FOREIGN_SERVERS = 16;
const STOP_GRACE_MS = 2000;

export interface DhcpStats {
  received: number;
  malformed: number;
  dropped: number;
  replies: number;
  failed: number;
}

export interface DhcpStatus {
  mode: 'full' | 'proxy';
  interface: string;
  address: string;
  range: { start: string; end: string } | null;
  foreignServers: ForeignServer[];
}

export interface DhcpServer {
  /** Probes for other servers, then serves; refuses (DHCP_FOREIGN_SERVER) in full mode next to one. */
  start(): Promise<DhcpStatus>;
  status(): DhcpStatus;
  stop(): Promise<void>;
  stats(): Readonly<DhcpStats>;
}

export interface DhcpServerOptions {
  config: DhcpConfig;
  lan: DeploymentLan;
  store: Store;
  gate: NetbootGate;
  sink: DhcpEventSink;
  log: Logger;
  clock?: () => Date;
}

export function createDhcpServer(o: DhcpServerOptions): DhcpServer {
  const { config, lan } = o;
  const log = o.log.child({ component: 'dhcp', interface: lan.interface });
  const clock = o.clock ?? (() => new Date());
  const stats: DhcpStats = { received: 0, malformed: 0, dropped: 0, replies: 0, failed: 0 };
  const observer = createDhcpObserver(o.sink, log);
  const server: ServerInfo = {
    address: lan.address,
    netmask: lan.netmask,
    broadcast: config.broadcast === 'limited' ? '255.255.255.255' : lan.broadcast,
  };
  let serverSocket: Socket | undefined;
  let clientSocket: Socket | undefined;
  let watch: ForeignServerWatch | undefined;
  let recheck: NodeJS.Timeout | undefined;
  let handle: DhcpHandler | undefined;
  let inFlight = 0;
  const foreign = new Map<string, ForeignServer>();

  function reportForeign(s: ForeignServer, action: 'refused' | 'warned'): void {
    const known = foreign.has(s.serverId);
    // Forged replies with ever new server ids must not flood the history.
    if (!known && foreign.size >= MAX_FOREIGN_SERVERS) return;
    foreign.set(s.serverId, s);
    if (known && action === 'warned') return;
    const message =
      config.mode === 'proxy'
        ? `DHCP server ${s.serverId} answers on ${lan.interface}: proxy mode relies on it for addresses; if it also sends option 66, Pis will use its TFTP server instead of ours`
        : action === 'refused'
          ? `Another DHCP server (${s.serverId}) answers on ${lan.interface}; full mode would hand out conflicting addresses. Switch it off, use proxy mode (netboot.dhcp.mode: proxy), or override with --allow-foreign-dhcp`
          : `Another DHCP server (${s.serverId}) answers on ${lan.interface} while rpi-deploy serves in full mode: clients may get conflicting addresses`;
    if (config.mode === 'full') log.error({ foreign: s }, message);
    else log.warn({ foreign: s }, message);
    observer.record('dhcp.foreign-server', {
      interface: lan.interface,
      serverId: s.serverId,
      from: s.from,
      offered: s.offered,
      mode: config.mode,
      action,
      message,
    });
  }

  function onPacket(buf: Buffer, from: { address: string; port: number }): void {
    stats.received++;
    if (inFlight >= MAX_IN_FLIGHT) {
      stats.dropped++;
      return;
    }
    let request;
    try {
      request = decodeDhcp(buf);
    } catch (e) {
      if (!(e instanceof DhcpDecodeError)) throw e;
      stats.malformed++;
      log.debug({ from: from.address, code: e.code, reason: e.message }, 'malformed DHCP packet skipped');
      return;
    }
    if (!handle) return;
    inFlight++;
    handle(request)
      .then((replies) => {
        for (const reply of replies) {
          const to = replyDestination(request, reply, server);
          stats.replies++;
          log.debug(
            { type: messageTypeName(reply.options.get(53)?.[0]), to: to.address, yiaddr: reply.yiaddr },
            'DHCP reply',
          );
          serverSocket?.send(
            encodeDhcp(reply),
            to.port,
            to.address,
            (err) => err && log.warn({ err, to }, 'DHCP reply not sent'),
          );
        }
      })
      .catch((err: unknown) => {
        // A database failure must not take DHCP down for every board: count it, log it, the client retries.
        stats.failed++;
        log.error({ err, xid: request.xid }, 'DHCP request failed');
      })
      .finally(() => inFlight--);
  }

  const status = (): DhcpStatus => ({
    mode: config.mode,
    interface: lan.interface,
    address: lan.address,
    range: config.mode === 'full' ? { ...config.range } : null,
    foreignServers: [...foreign.values()],
  });

  return {
    status,
    async start() {
      if (config.mode === 'full') checkRange(config, lan);
      handle = createDhcpHandler({
        mode: config.mode,
        server,
        subnet: lan,
        ownMac: lan.mac,
        leases:
          config.mode === 'full'
            ? await createLeaseService({
                store: o.store,
                pool: poolOf(config, lan),
                leaseSeconds: config.leaseSeconds,
                declineHoldSeconds: config.declineHoldSeconds,
              })
            : null,
        grant: { leaseSeconds: config.leaseSeconds, router: config.router, dnsServers: config.dnsServers },
        declineHoldSeconds: config.declineHoldSeconds,
        gate: o.gate,
        observer,
        clock,
      });
      clientSocket = await openDeviceSocket({ interface: lan.interface, port: DHCP_CLIENT_PORT, shared: true });
      watch = watchForeignServers({
        socket: clientSocket,
        interface: lan.interface,
        mac: lan.mac,
        ourAddress: lan.address,
        onForeign: (s) => reportForeign(s, 'warned'),
      });
      try {
        const found = config.foreignServer.probeMs > 0 ? await watch.probe(config.foreignServer.probeMs) : [];
        const refuse = config.mode === 'full' && !config.foreignServer.allowInFullMode;
        for (const s of found) reportForeign(s, refuse ? 'refused' : 'warned');
        if (refuse && found.length > 0) {
          throw new NetbootError(
            'DHCP_FOREIGN_SERVER',
            `Another DHCP server (${found.map((s) => s.serverId).join(', ')}) answers on ${lan.interface}; refusing to serve full-mode DHCP next to it. Switch it off, use proxy mode (netboot.dhcp.mode: proxy), or start with --allow-foreign-dhcp`,
            { interface: lan.interface, servers: found },
          );
        }
        if (config.mode === 'proxy' && found.length === 0 && config.foreignServer.probeMs > 0) {
          const message = `No DHCP server answered on ${lan.interface}: in proxy mode boards get their address from the site's DHCP server, so without one they cannot boot`;
          log.warn(message);
          observer.publish('dhcp.warning', { code: 'DHCP_NO_SITE_SERVER', message });
        }
        serverSocket = await openDeviceSocket({
          interface: lan.interface,
          port: DHCP_SERVER_PORT,
          shared: false,
          recvBufferBytes: RECV_BUFFER_BYTES,
        });
      } catch (err) {
        watch.close();
        clientSocket.close();
        clientSocket = undefined;
        throw err;
      }
      serverSocket.on('message', onPacket);
      if (config.foreignServer.recheckSeconds > 0 && config.foreignServer.probeMs > 0) {
        recheck = setInterval(() => {
          watch
            ?.probe(config.foreignServer.probeMs)
            .catch((err: unknown) => log.warn({ err }, 'foreign DHCP server probe failed'));
        }, config.foreignServer.recheckSeconds * 1000);
        recheck.unref();
      }
      log.info(status(), `DHCP serving in ${config.mode} mode on ${lan.interface}`);
      return status();
    },
    async stop() {
      clearInterval(recheck);
      watch?.close();
      serverSocket?.close();
      clientSocket?.close();
      serverSocket = clientSocket = undefined;
      const deadline = Date.now() + STOP_GRACE_MS;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      log.info({ stats }, 'DHCP stopped');
    },
    stats: () => stats,
  };
}

function poolOf(config: DhcpConfig, lan: DeploymentLan): Pool {
  return {
    start: config.range.start,
    end: config.range.end,
    serverAddress: lan.address,
    reservations: new Map(config.reservations.map((r) => [normaliseMac(r.mac)!, r.ip])),
  };
}

/** The range and reservations must lie on the interface's subnet, or clients get unusable addresses. */
export function checkRange(config: DhcpConfig, lan: DeploymentLan): void {
  const outside = [config.range.start, config.range.end, ...config.reservations.map((r) => r.ip)].filter(
    (ip) => !isHostIn(lan, ip) || ip === lan.address,
  );
  if (outside.length > 0) {
    throw new NetbootError(
      'DHCP_RANGE_OUTSIDE_SUBNET',
      `DHCP addresses ${outside.join(', ')} are not free host addresses of ${lan.interface}'s subnet ${lan.network}/${lan.prefixLength} (the server is ${lan.address}); set netboot.dhcp.range and reservations inside it`,
      { interface: lan.interface, outside },
    );
  }
}
