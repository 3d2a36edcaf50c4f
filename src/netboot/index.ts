import type { NetbootConfig } from '../config/index.js';
import type { Fleet } from '../fleet/index.js';
import type { ImageService } from '../images/index.js';
import { createEmit, type EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { FleetEvent, FleetEvents } from '../protocol/events.js';
import type { Store } from '../store/index.js';
import { createBootService, type RuntimeBundleFile } from './boot-service.js';
import type { NetbootGate } from './dhcp/handler.js';
import { listLeases } from './dhcp/leases.repo.js';
import { isHeld, type Lease } from './dhcp/leases.js';
import { watchForeignServers, type ForeignServer } from './dhcp/rogue-check.js';
import { DHCP_CLIENT_PORT, openDeviceSocket } from './dhcp/socket.js';
import type { DhcpEventSink } from './dhcp/observer.js';
import { createDhcpServer, type DhcpServer, type DhcpStatus } from './dhcp/server.js';
import { resolveDeploymentLan } from './interface.js';

/**
 * Network boot: everything a blank Pi touches before the agent runs (DHCP, TFTP, the boot tree).
 * Off until `netboot.interface` names the deployment LAN; then nothing listens anywhere else.
 */

export interface NetbootDeps {
  store: Store;
  fleet: Pick<Fleet, 'records' | 'batches'>;
  /** The active image's FAT boot partition is where boards' kernel and device trees come from. */
  images: Pick<ImageService, 'list' | 'active' | 'readBootFile'>;
  events: EventBus<FleetEvent>;
  /** When events happen; the wall clock unless a test moves it. */
  clock?: () => Date;
  log: Logger;
  /** Told of each TFTP transfer, for /metrics; `bytes` are those the board acknowledged. */
  tftpMeter?: TftpMeter;
  /** Where `rpi-deploy netboot build` left the stage-1 initramfs and the runtime bundle. */
  dataDir: string;
}

export interface TftpMeter {
  started(): void;
  ended(outcome: 'completed' | 'failed' | 'probe', bytes: number): void;
}

/** What is serving; null when network boot is off. */
export interface NetbootStatus {
  interface: string;
  address: string;
  dhcp: DhcpStatus | null;
  tftp: { address: string; port: number } | null;
}

export interface Netboot {
  /** `listeners.device` is the device API's bound URL (`http://host:port`), where generated cmdlines point boards. */
  start(listeners: { device: string }): Promise<NetbootStatus | null>;
  stop(): Promise<void>;
  /**
   * The board (8-digit serial) a per-boot token from a generated cmdline.txt was issued to;
   * undefined for an unknown or expired token. The device API checks it at enrollment.
   */
  verifyBootToken(token: string): Promise<string | undefined>;
  /** The runtime bundle stage 1 downloads, when `sha256` names the current build. */
  runtimeBundle(sha256: string): Promise<RuntimeBundleFile | undefined>;
}

export function createNetboot(config: Readonly<NetbootConfig>, deps: NetbootDeps): Netboot {
  const log = deps.log.child({ component: 'netboot' });
  let dhcp: DhcpServer | undefined;
  const emit = createEmit<FleetEvents>(deps.events, deps.clock ?? (() => new Date()));
  const boot = createBootService(config, { ...deps, log, emit });

  const sink: DhcpEventSink = {
    record: (type, data) => deps.fleet.records.record(type, data),
    publish: emit,
  };
  const gate: NetbootGate = async (serial8) =>
    serial8 === null
      ? // Without option 97 (a custom DHCP_OPTION97 prefix) the board cannot be matched to its deployments.
        { allowed: true, reason: 'serial unknown (no Raspberry Pi GUID in option 97): treated as a new board' }
      : deps.fleet.records.netbootAllowed(serial8);

  return {
    async start(listeners) {
      if (config.interface === null) {
        log.info(
          'network boot is off: set netboot.interface (or --netboot-interface) to the deployment-LAN interface to serve DHCP and TFTP',
        );
        return null;
      }
      const lan = resolveDeploymentLan(config.interface, config.address);
      if (config.dhcp.enabled) {
        dhcp = createDhcpServer({ config: config.dhcp, lan, store: deps.store, gate, sink, log });
        await dhcp.start();
      }
      const tftp = await boot.start(lan, listeners.device).catch(async (err: unknown) => {
        await dhcp?.stop();
        throw err;
      });
      return { interface: lan.interface, address: lan.address, dhcp: dhcp?.status() ?? null, tftp };
    },
    async stop() {
      await Promise.all([dhcp?.stop(), boot.stop()]);
      dhcp = undefined;
    },
    verifyBootToken: (token) => boot.tokens.verify(token),
    runtimeBundle: (sha256) => boot.runtimeBundle(sha256),
  };
}

/** Full mode's leases as recorded in the database, for `rpi-deploy dhcp leases`. */
export function listDhcpLeases(store: Store): Promise<Lease[]> {
  return listLeases(store.db);
}

/** Listens on `interfaceName` for other DHCP servers (as serve does before it starts), for `rpi-deploy dhcp probe`. */
export async function probeDhcpServers(
  interfaceName: string,
  address: string | null,
  ms: number,
): Promise<ForeignServer[]> {
  const lan = resolveDeploymentLan(interfaceName, address);
  const socket = await openDeviceSocket({ interface: lan.interface, port: DHCP_CLIENT_PORT, shared: true });
  const watch = watchForeignServers({
    socket,
    interface: lan.interface,
    mac: lan.mac,
    ourAddress: lan.address,
    onForeign: () => {},
  });
  try {
    return await watch.probe(ms);
  } finally {
    watch.close();
    socket.close();
  }
}

export { NetbootError, type NetbootErrorCode } from './errors.js';
export { isHeld as isLeaseHeld };
export type { Lease } from './dhcp/leases.js';
export type { ForeignServer } from './dhcp/rogue-check.js';
export type { DhcpStatus } from './dhcp/server.js';
export type { RuntimeBundleFile } from './boot-service.js';
export { resolveDeploymentLan, type DeploymentLan } from './interface.js';
export { checkRange as checkDhcpRange } from './dhcp/server.js';
export { netbootDir, readBuildManifest, type BuildManifest } from './build/artifacts.js';
export { DHCP_SERVER_PORT } from './dhcp/socket.js';
export { writeTar, type TarEntry } from './build/tar.js';
export { buildNetboot, type BuildOptions, type BuildResult } from './build/build.js';
export { BuildError, type BuildErrorCode } from './build/errors.js';
