import { join } from 'node:path';
import type { NetbootConfig } from '../config/index.js';
import type { Emit } from '../lib/event-bus.js';
import type { FleetEvents } from '../protocol/events.js';
import type { NetbootDeps } from './index.js';
import type { DeploymentLan } from './interface.js';
import { findBoardOfAddress } from './boot-tree/boards.repo.js';
import { createBootTokens, type BootTokens } from './boot-tree/boot-tokens.js';
import { createBytesCache, readCachedFile } from './boot-tree/file-cache.js';
import { activeBootImage } from './boot-tree/boot-image.js';
import { directoryFirmware, imageFirmware } from './boot-tree/firmware.js';
import { createBootTree, type Stage1 } from './boot-tree/tree.js';
import { netbootDir, readBuildManifest } from './build/artifacts.js';
import { createTftpServer, type TftpServer, type TransferReport } from './tftp/server.js';

/** The runtime bundle as the device API serves it. */
export interface RuntimeBundleFile {
  path: string;
  sha256: string;
  sizeBytes: number;
}

export interface BootService {
  /** Serves the boot tree over TFTP on the LAN's address; `deviceApi` is the device listener's bound URL. */
  start(
    lan: Pick<DeploymentLan, 'address' | 'mtu'>,
    deviceApi: string,
  ): Promise<{ address: string; port: number } | null>;
  stop(): Promise<void>;
  tokens: BootTokens;
  /** The runtime bundle of the last `netboot build` if its SHA-256 is `sha256`. */
  runtimeBundle(sha256: string): Promise<RuntimeBundleFile | undefined>;
}

/**
 * TFTP, the boot tree it serves and the per-boot tokens, wired together. The TFTP server only
 * ever binds the deployment address it is given.
 */
export function createBootService(
  config: Readonly<NetbootConfig>,
  deps: NetbootDeps & { emit: Emit<FleetEvents> },
): BootService {
  const log = deps.log.child({ service: 'tftp' });
  const cache = createBytesCache(config.tftp.cacheBytes);
  const tokens = createBootTokens({ store: deps.store, ttlMs: config.boot.tokenTtlMinutes * 60_000 });
  const dir = netbootDir(deps.dataDir);
  let deviceApiUrl = config.boot.deviceApiUrl ?? '';
  let tftp: TftpServer | undefined;

  async function stage1(): Promise<Stage1 | undefined> {
    const manifest = await readBuildManifest(deps.dataDir);
    if (!manifest) return undefined;
    try {
      return {
        initramfs: await readCachedFile(cache, join(dir, manifest.stage1.file)),
        runtimeSha256: manifest.runtime.sha256,
      };
    } catch (err) {
      log.warn(
        { err },
        'the stage-1 initramfs named in build.json cannot be read; run "rpi-deploy netboot build --force"',
      );
      return undefined;
    }
  }

  const emit = (report: TransferReport) => {
    const common = {
      serial8: report.serial8,
      path: report.path,
      client: report.client.address,
      durationMs: report.durationMs,
    };
    const meter = deps.tftpMeter;
    if (report.outcome === 'probe') return meter?.ended('probe', 0);
    if (report.outcome === 'served') {
      meter?.ended('completed', report.sizeBytes);
      return publish(
        'tftp.served',
        { ...common, bytes: report.sizeBytes, blksize: report.blksize, windowsize: report.windowsize },
        report.serial8 !== null,
      );
    }
    meter?.ended('failed', report.bytesAcked);
    publish(
      'tftp.failed',
      { ...common, reason: report.outcome, bytesAcked: report.bytesAcked, sizeBytes: report.sizeBytes },
      report.serial8 !== null,
    );
  };

  /** A board's files go to the history; files read by no known board only to the live stream. */
  function publish<K extends 'tftp.served' | 'tftp.failed'>(type: K, data: FleetEvents[K], keep: boolean): void {
    if (!keep) return deps.emit(type, data);
    deps.fleet.records
      .record(type, data)
      .catch((err: unknown) => log.error({ err, type }, 'could not record a TFTP event'));
  }

  const tree = createBootTree({
    firmware:
      config.tftp.bootFilesDir === null
        ? imageFirmware(activeBootImage(deps), cache)
        : directoryFirmware(config.tftp.bootFilesDir, cache),
    stage1,
    tokens,
    netbootAllowed: (serial8) => deps.fleet.records.netbootAllowed(serial8),
    serialForAddress: (ip) => findBoardOfAddress(deps.store.db, ip, new Date().toISOString()),
    settings: {
      console: config.boot.console,
      cmdlineExtra: config.boot.cmdlineExtra,
      target: config.boot.target,
      deviceApiUrl: () => deviceApiUrl,
    },
    log,
  });

  return {
    tokens,
    async start(lan, deviceApi) {
      if (!config.tftp.enabled) return null;
      const { address } = lan;
      if (config.boot.deviceApiUrl === null) {
        const bound = new URL(deviceApi);
        const host = bound.hostname.replace(/^\[|\]$/g, '');
        deviceApiUrl = `http://${address}:${bound.port}`;
        if (host !== address && host !== '0.0.0.0' && host !== '::') {
          log.warn(
            { deviceApi, address },
            `boards cannot reach the device API on ${deviceApi}: set device.listen to ${address}:<port> (or netboot.boot.deviceApiUrl)`,
          );
        }
      }
      const t = config.tftp;
      tftp = createTftpServer(
        {
          address,
          port: t.port,
          limits: {
            // A block fills at most one IP packet: MTU − 20 (IP) − 8 (UDP) − 4 (TFTP), so nothing fragments.
            maxBlksize: Math.min(t.maxBlksize, lan.mtu - 32),
            maxWindowsize: t.maxWindowsize,
            // What a client's default receive buffer (net.core.rmem_default, 212992) holds.
            windowBudgetBytes: Math.min(t.socketBufferBytes, 212_992),
            defaultTimeoutMs: t.retransmitMs,
          },
          maxRetries: t.maxRetries,
          transferDeadlineMs: t.transferDeadlineSeconds * 1000,
          maxSessions: t.maxSessions,
          socketBufferBytes: t.socketBufferBytes,
        },
        {
          files: tree,
          log,
          onTransferEnd: emit,
          onTransferStart: () => deps.tftpMeter?.started(),
        },
      );
      return tftp.start();
    },
    async stop() {
      await tftp?.stop();
      tftp = undefined;
    },
    async runtimeBundle(sha256) {
      const manifest = await readBuildManifest(deps.dataDir);
      if (manifest?.runtime.sha256 !== sha256) return undefined;
      return { path: join(dir, manifest.runtime.file), sha256, sizeBytes: manifest.runtime.sizeBytes };
    },
  };
}
