import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { parseListen, type Config } from './config/index.js';
import { AppError } from './lib/errors.js';
import type { HttpServer } from './lib/http-server.js';
import { createDeviceApi } from './device-api/index.js';
import type { Logger } from './lib/logger.js';
import { createAuditLog, createManagementApi, type LiveLimits } from './management/index.js';
import { createNetboot, readBuildManifest, type NetbootStatus } from './netboot/index.js';
import type { HealthReply } from './protocol/health.js';
import { createMetrics, runDoctor } from './operations/index.js';
import type { DoctorReport } from './protocol/doctor.js';
import { VERSION } from './version.js';
import { openCore, type Core } from './core.js';

// The server's callers (tests, serve) open the core through the composition root as before.
export { DATABASE_FILE, openCore, type Core } from './core.js';

/** How often open deployments are checked for silent boards, at most (a shorter silence checks more often). */
const SILENCE_SWEEP_MAX_MS = 60_000;

export interface App extends Core {
  /** The two HTTP surfaces (for in-process inspection: their routes, `inject`). */
  readonly servers: { device: HttpServer; management: HttpServer };
  /**
   * Binds both listeners, then network boot when `netboot.interface` is set; returns the addresses
   * actually bound (port 0 becomes a real port), what network boot serves (null: off) and, while
   * no user exists, the one-time setup token for the first admin.
   */
  start(): Promise<{ device: string; management: string; netboot: NetbootStatus | null; setupToken?: string }>;
  /** Stops network boot and accepting requests, lets running ones finish, closes the database. */
  stop(): Promise<void>;
}

export interface AppOptions {
  /** The management surface's clock (session expiry); tests move it instead of sleeping. */
  clock?: () => Date;
  /** Live-channel limits (per-client backlog, heartbeat); tests make them small. */
  liveLimits?: Partial<LiveLimits>;
}

/** Composition root, part two: the two HTTP surfaces on their own listeners. */
export async function createApp(config: Readonly<Config>, log: Logger, options: AppOptions = {}): Promise<App> {
  const tls = readTls(config.management.tls);
  const core = await openCore(config, log);
  const startedAt = Date.now();
  const failSilent = (): void => {
    core.deployments
      .failSilent()
      .then((failed) => {
        if (failed.length > 0)
          log.info({ deployments: failed.map((d) => d.id) }, 'failed deployments whose boards fell silent');
      })
      .catch((err: unknown) => log.error({ err }, 'could not fail silent deployments'));
  };
  const health = async (): Promise<HealthReply> => {
    const db = await core.store.health();
    return {
      status: db.ok ? 'healthy' : 'degraded',
      timestamp: new Date().toISOString(),
      version: VERSION,
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      database: { ok: db.ok, schema_version: db.schemaVersion, ...(db.error && { error: db.error }) },
    };
  };
  const metrics = createMetrics({
    events: core.events,
    deploymentCounts: () => core.fleet.records.deploymentCounts(),
    dataDir: config.dataDir,
  });
  const netboot = createNetboot(config.netboot, {
    tftpMeter: { started: () => metrics.tftpStarted(), ended: (end, bytes) => metrics.tftpEnded(end, bytes) },
    store: core.store,
    fleet: core.fleet,
    images: core.images,
    events: core.events,
    log,
    dataDir: config.dataDir,
  });
  const device = createDeviceApi({
    deployments: core.deployments,
    peers: config.device.peers,
    images: core.images,
    captures: core.captures,
    health,
    // Only network boot issues boot tokens, so only with it on are they required. A boot token
    // names the 8-digit serial it was issued to; the board may enroll with all 16.
    bootTokens:
      config.netboot.interface === null
        ? undefined
        : {
            verify: async (token, serial) =>
              (await netboot.verifyBootToken(token)) === serial.trim().toLowerCase().slice(-8),
          },
    runtimeBundle: (sha256) => netboot.runtimeBundle(sha256),
    meter: metrics,
    log: log.child({ surface: 'device' }),
  });
  const bound: { device: string | null; management: string | null } = { device: null, management: null };
  let serving: NetbootStatus | null = null;
  let silenceSweep: NodeJS.Timeout | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  const doctor = serverDoctor(config, core, log);
  const dhcp = config.netboot.interface !== null && config.netboot.dhcp.enabled;
  const management = createManagementApi({
    config: config.management,
    dataDir: config.dataDir,
    store: core.store,
    fleet: core.fleet,
    images: core.images,
    captures: core.captures,
    events: core.events,
    log: log.child({ surface: 'management' }),
    ...(tls && { tls }),
    health,
    metrics,
    facts: {
      version: VERSION,
      startedAt,
      listeners: () => ({ ...bound }),
      dhcp: () => ({
        enabled: dhcp,
        mode: dhcp ? config.netboot.dhcp.mode : null,
        interface: config.netboot.interface,
      }),
      netboot: async () => {
        const built = await readBuildManifest(config.dataDir);
        return {
          enabled: config.netboot.interface !== null,
          tftp: serving?.tftp ?? null,
          stage1: built ? { builtAt: built.builtAt } : null,
        };
      },
      doctor: () => doctor.latest(),
    },
    ...(options.clock && { clock: options.clock }),
    ...(options.liveLimits && { liveLimits: options.liveLimits }),
  });

  return {
    ...core,
    servers: { device, management: management.server },
    async start() {
      const deviceAt = await listenOn(device, 'device', config.device.listen);
      const managementAt = await listenOn(management.server, 'management', config.management.listen).catch(
        async (err: unknown) => {
          await device.close();
          throw err;
        },
      );
      Object.assign(bound, { device: deviceAt, management: managementAt });
      const netbootStatus = await netboot.start({ device: deviceAt }).catch(async (err: unknown) => {
        await Promise.all([device.close(), management.server.close()]);
        throw err;
      });
      serving = netbootStatus;
      silenceSweep = setInterval(
        failSilent,
        Math.min(config.device.silenceMinutes * 60_000, SILENCE_SWEEP_MAX_MS),
      ).unref();
      log.info(
        {
          device: deviceAt,
          management: managementAt,
          netboot: netbootStatus,
          dataDir: config.dataDir,
          version: VERSION,
        },
        'rpi-deploy serving',
      );
      await doctor.atStart();
      if (config.history.keepDays > 0) {
        const prune = () => pruneHistory(config.history.keepDays, core, options.clock ?? (() => new Date()));
        const failed = (err: unknown) => log.error({ err }, 'history retention failed; it runs again in a day');
        await prune().catch(failed);
        retentionTimer = setInterval(() => {
          prune().catch(failed);
        }, DAY_MS).unref();
      }
      const setupToken = await management.issueSetupToken();
      return { device: deviceAt, management: managementAt, netboot: netbootStatus, ...(setupToken && { setupToken }) };
    },
    async stop() {
      clearInterval(silenceSweep);
      clearInterval(retentionTimer);
      await netboot.stop();
      serving = null;
      await Promise.all([device.close(), management.server.close()]);
      metrics.close();
      await core.close();
    },
  };
}

/** A listener could not be bound (address in use, not on this machine, no permission) or its TLS files are unusable. */
export class ServeError extends AppError<'SERVE_LISTEN_FAILED' | 'SERVE_TLS_INVALID'> {}

/** The management listener's certificate and key, read and checked as a pair before anything starts. */
function readTls(files: Config['management']['tls']): { cert: Buffer; key: Buffer } | undefined {
  if (files.cert === null || files.key === null) return undefined;
  const named = `management.tls.cert (${files.cert}) and management.tls.key (${files.key})`;
  let pair: { cert: Buffer; key: Buffer };
  try {
    pair = { cert: readFileSync(files.cert), key: readFileSync(files.key) };
  } catch (cause) {
    throw new ServeError(
      'SERVE_TLS_INVALID',
      `Cannot read the TLS files ${named}: ${(cause as Error).message}`,
      { ...files },
      { cause },
    );
  }
  try {
    createSecureContext(pair);
  } catch (cause) {
    throw new ServeError(
      'SERVE_TLS_INVALID',
      `${named} do not make a usable certificate: ${(cause as Error).message}; both must be PEM, and the key the certificate's own`,
      { ...files },
      { cause },
    );
  }
  return pair;
}

async function listenOn(server: HttpServer, surface: 'device' | 'management', address: string): Promise<string> {
  const { host, port } = parseListen(address);
  try {
    return await server.listen({ host, port });
  } catch (cause) {
    const reason =
      (cause as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? 'the address is already in use'
        : (cause as Error).message;
    throw new ServeError(
      'SERVE_LISTEN_FAILED',
      `Cannot listen for the ${surface} API on ${address}: ${reason}; choose another with --${surface}-listen HOST:PORT`,
      {
        surface,
        address,
      },
      { cause },
    );
  }
}

const DAY_MS = 86_400_000;

/**
 * History retention (history.keepDays): deletes the events older than the setting and writes
 * one audit row per run with the count, so an operator can tell what went and when.
 */
async function pruneHistory(keepDays: number, core: Core, clock: () => Date): Promise<void> {
  const before = new Date(clock().getTime() - keepDays * DAY_MS).toISOString();
  const removed = await core.fleet.records.pruneHistory(before);
  await createAuditLog({ store: core.store, clock }).record({
    actor: 'system',
    action: 'history.prune',
    target: null,
    details: { keepDays, before, removed },
    ip: null,
  });
  core.log.info({ keepDays, before, removed }, 'history retention: removed events older than history.keepDays');
}

/** How long the system page may show a doctor report before it is run again. */
const DOCTOR_MAX_AGE_MS = 60_000;

/**
 * `rpi-deploy doctor` inside the server (issue 13): at start, each warning and failure goes to the
 * log; the system page shows the latest report. The ports are the server's own and the DHCP
 * server probed for others itself, so neither is checked again.
 */
function serverDoctor(config: Readonly<Config>, core: Core, log: Logger) {
  let last: { report: DoctorReport; at: number } | undefined;
  const run = async () => {
    const report = await runDoctor({
      config: () => config,
      data: async () => ({ fleet: core.fleet, images: core.images, close: async () => {} }),
      probe: false,
      serving: true,
      cli: 'rpi-deploy',
    });
    last = { report, at: Date.now() };
    return report;
  };
  return {
    async atStart(): Promise<void> {
      try {
        for (const c of (await run()).checks)
          if (c.status !== 'pass') log.warn({ check: c.id, status: c.status, fix: c.fix }, `doctor: ${c.summary}`);
      } catch (err) {
        log.error({ err }, 'the preflight checks (rpi-deploy doctor) could not run');
      }
    },
    async latest(): Promise<DoctorReport | null> {
      if (last && Date.now() - last.at < DOCTOR_MAX_AGE_MS) return last.report;
      return run().catch((err: unknown) => {
        log.error({ err }, 'the preflight checks (rpi-deploy doctor) could not run');
        return last?.report ?? null;
      });
    },
  };
}
