import type { Config } from '../config/index.js';
import type { Fleet } from '../fleet/index.js';
import type { CaptureService, ImageService } from '../images/index.js';
import type { EventBus } from '../lib/event-bus.js';
import { createHttpServer, type HttpServer } from '../lib/http-server.js';
import type { Logger } from '../lib/logger.js';
import type { FleetEvent } from '../protocol/events.js';
import type { HealthReply } from '../protocol/health.js';
import type { Store } from '../store/index.js';
import { registerApi } from './api.js';
import { createAuditLog } from './audit.service.js';
import { createLoginLimiter } from './auth/login-limiter.js';
import { createSessionService } from './auth/sessions.service.js';
import { createSetupGate } from './auth/setup.js';
import { createTokenService } from './auth/tokens.service.js';
import { createUserService } from './auth/users.service.js';
import { createDiskWatch } from './disk-watch.js';
import { managementStatusOf } from './error-map.js';
import { createLiveHub, type LiveLimits } from './live-hub.js';
import { registerMetricsRoute, type MetricsSource } from './metrics.routes.js';
import { registerSecurityHeaders } from './security-headers.js';
import { DEFAULT_UI_DIR, registerStaticUi } from './static-ui.js';
import { registerHealthRoute, type SystemFacts } from './system.routes.js';

/** Upload bodies stream past this limit (images); JSON bodies are small. */
const MANAGEMENT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;
const SESSION_SWEEP_EVERY_MS = 3_600_000;

export interface ManagementDeps {
  config: Readonly<Config['management']>;
  dataDir: string;
  store: Store;
  fleet: Fleet;
  images: ImageService;
  captures: CaptureService;
  events: EventBus<FleetEvent>;
  log: Logger;
  /** Certificate and key when the listener serves https itself (management.tls). */
  tls?: { cert: Buffer; key: Buffer };
  health: () => Promise<HealthReply>;
  facts: Pick<SystemFacts, 'version' | 'startedAt' | 'listeners' | 'dhcp' | 'netboot' | 'doctor'>;
  /** Tests move time forward instead of sleeping. */
  clock?: () => Date;
  liveLimits?: Partial<LiveLimits>;
  /** The exposition text GET /metrics serves (management.metrics says who may read it). */
  metrics: MetricsSource;
}

export interface ManagementApi {
  server: HttpServer;
  /** While no user exists: a fresh one-time setup token for the first admin (print it); else undefined. */
  issueSetupToken(): Promise<string | undefined>;
}

/**
 * The HTTP surface for operators, on its own listener so that nothing on the deployment LAN
 * reaches it: the REST API under /api/v1 (auth, fleet, images, users, audit, live events,
 * OpenAPI) and the built web UI at /.
 */
export function createManagementApi(deps: ManagementDeps): ManagementApi {
  const { config, store, log } = deps;
  const clock = deps.clock ?? (() => new Date());
  const server = createHttpServer({
    log,
    bodyLimitBytes: MANAGEMENT_BODY_LIMIT_BYTES,
    statusOf: managementStatusOf,
    trustProxy: config.trustProxy,
    ...(deps.tls && { tls: deps.tls }),
  });
  const policy = { allowedHosts: config.allowedHosts, trustedOrigins: config.trustedOrigins };

  const users = createUserService({ store, clock });
  const sessions = createSessionService({ store, clock, limits: config.session });
  const tokens = createTokenService({ store, clock });
  const audit = createAuditLog({ store, clock });
  const setup = createSetupGate({ countUsers: () => users.count(), log });
  const limiter = createLoginLimiter(config.loginLimit, clock);
  const disk = createDiskWatch({
    path: deps.dataDir,
    lowBytes: config.diskLowMiB * 2 ** 20,
    events: deps.events,
    log,
    clock,
  });
  const hub = createLiveHub({
    events: deps.events,
    history: (afterSeq, limit) => deps.fleet.records.history({ afterSeq, limit }),
    headSeq: () => deps.fleet.records.lastSeq(),
    log,
    ...(deps.liveLimits && { limits: deps.liveLimits }),
  });
  const facts: SystemFacts = {
    ...deps.facts,
    database: async () => {
      const h = await store.health();
      return { ok: h.ok, schemaVersion: h.schemaVersion, sizeBytes: h.sizeBytes, ...(h.error && { error: h.error }) };
    },
    liveClients: () => hub.clients,
    servedBytesPerSec: () => deps.metrics.servedBytesPerSecond(),
  };

  registerSecurityHeaders(server, policy);
  registerHealthRoute(server, deps.health);
  registerMetricsRoute(server, config.metrics, deps.metrics);
  void server.register(
    async (api) =>
      registerApi(api, {
        fleet: deps.fleet,
        events: deps.events,
        images: deps.images,
        captures: deps.captures,
        users,
        sessions,
        tokens,
        audit,
        setup,
        limiter,
        hub,
        disk,
        facts,
        policy,
        clock,
        sessionMaxAgeSeconds: config.session.absoluteHours * 3600,
      }),
    { prefix: '/api/v1' },
  );
  registerStaticUi(server, { root: config.uiDir || DEFAULT_UI_DIR });

  let sweeper: NodeJS.Timeout | undefined;
  server.addHook('onReady', async () => {
    disk.start();
    sweeper = setInterval(
      () => void sessions.sweep().catch((err: unknown) => log.error({ err }, 'session sweep failed')),
      SESSION_SWEEP_EVERY_MS,
    );
    sweeper.unref();
  });
  server.addHook('onClose', async () => {
    disk.stop();
    clearInterval(sweeper);
    hub.close();
  });

  return { server, issueSetupToken: () => setup.issue() };
}

export { createAuditLog, type AuditLog } from './audit.service.js';
export { createUserService, type UserService } from './auth/users.service.js';
export { ManagementError, type ManagementErrorCode } from './errors.js';
export type { LiveLimits } from './live-hub.js';
export type { MetricsSource } from './metrics.routes.js';
