import type { Fleet } from '../fleet/index.js';
import type { ImageService } from '../images/index.js';
import type { EventBus } from '../lib/event-bus.js';
import { createHttpServer, type HttpServer } from '../lib/http-server.js';
import type { Logger } from '../lib/logger.js';
import type { FleetEvent } from '../protocol/events.js';
import type { HealthReply } from '../protocol/health.js';
import type { BootTokenVerifier } from './auth.js';
import { registerChunkRoutes } from './chunks.routes.js';
import { registerEnrollRoutes } from './enroll.routes.js';
import { deviceStatusOf } from './error-map.js';
import { registerLegacyStatusRoutes } from './legacy-status.routes.js';
import { registerLegacyRoutes } from './legacy.routes.js';
import { registerProgressRoutes } from './progress.routes.js';

/** Boards send small JSON documents; anything larger is refused before it is parsed. */
const DEVICE_BODY_LIMIT_BYTES = 64 * 1024;
/** How often boards report progress (DESIGN: about once a second). */
export const PROGRESS_INTERVAL_MS = 1000;

export interface DeviceApiDeps {
  fleet: Fleet;
  images: ImageService;
  events: EventBus<FleetEvent>;
  health: () => Promise<HealthReply>;
  log: Logger;
  bootTokens?: BootTokenVerifier | undefined;
}

/** The HTTP surface boards talk to: API v1 and the seed's routes. Nothing here lets a board change what an operator set up. */
export function createDeviceApi(deps: DeviceApiDeps): HttpServer {
  const app = createHttpServer({ log: deps.log, bodyLimitBytes: DEVICE_BODY_LIMIT_BYTES, statusOf: deviceStatusOf });
  registerLegacyRoutes(app, deps);
  registerLegacyStatusRoutes(app, deps);
  registerEnrollRoutes(app, { ...deps, progressIntervalMs: PROGRESS_INTERVAL_MS });
  registerChunkRoutes(app, deps);
  registerProgressRoutes(app, deps);
  return app;
}

export type { BootTokenVerifier } from './auth.js';
export { DeviceApiError, type DeviceApiErrorCode } from './errors.js';
