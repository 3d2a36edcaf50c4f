import type { DeploymentService } from '../fleet/index.js';
import type { CaptureService, ImageService } from '../images/index.js';
import { createHttpServer, type HttpServer } from '../lib/http-server.js';
import type { Logger } from '../lib/logger.js';
import type { HealthReply } from '../protocol/health.js';
import type { BootTokenVerifier } from './auth.js';
import { registerCaptureRoutes } from './capture.routes.js';
import { registerChunkRoutes } from './chunks.routes.js';
import { registerEnrollRoutes } from './enroll.routes.js';
import { deviceStatusOf } from './error-map.js';
import { registerPeerRoutes } from './peers.routes.js';
import { registerProgressRoutes } from './progress.routes.js';
import { registerRuntimeRoutes, type RuntimeRouteDeps } from './runtime.routes.js';
import { registerSeedRoutes } from './seed.routes.js';
import { SwarmTracker } from './swarm.js';

/** Boards send small JSON documents; anything larger is refused before it is parsed. */
const DEVICE_BODY_LIMIT_BYTES = 64 * 1024;

export interface DeviceApiDeps extends RuntimeRouteDeps {
  deployments: DeploymentService;
  images: ImageService;
  captures: CaptureService;
  health: () => Promise<HealthReply>;
  log: Logger;
  /** Given when network boot is on: v1 enroll then requires the boot token netboot issued. */
  bootTokens?: BootTokenVerifier | undefined;
  /** Fleet mode: boards share chunks with each other, the server tracks who feeds whom (default on). */
  peers?: boolean | undefined;
}

/** The HTTP surface boards talk to: API v1 and the seed's routes. Nothing here lets a board change what an operator set up. */
export function createDeviceApi(deps: DeviceApiDeps): HttpServer {
  const app = createHttpServer({ log: deps.log, bodyLimitBytes: DEVICE_BODY_LIMIT_BYTES, statusOf: deviceStatusOf });
  registerSeedRoutes(app, deps);
  registerEnrollRoutes(app, deps);
  registerChunkRoutes(app, deps);
  const swarm = deps.peers === false ? undefined : new SwarmTracker();
  registerProgressRoutes(app, { ...deps, swarm });
  registerPeerRoutes(app, { ...deps, swarm });
  registerRuntimeRoutes(app, deps);
  registerCaptureRoutes(app, deps);
  return app;
}

export type { BootTokenVerifier } from './auth.js';
export { DeviceApiError, type DeviceApiErrorCode } from './errors.js';
