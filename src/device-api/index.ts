import { createHttpServer, type HttpServer } from '../lib/http-server.js';
import type { Logger } from '../lib/logger.js';
import { deviceStatusOf } from './error-map.js';
import { registerLegacyRoutes, type LegacyRouteDeps } from './legacy.routes.js';
import { registerRuntimeRoutes, type RuntimeRouteDeps } from './runtime.routes.js';

/** Boards send small JSON documents; anything larger is refused before it is parsed. */
const DEVICE_BODY_LIMIT_BYTES = 64 * 1024;

/** The HTTP surface boards talk to. Nothing here lets a board change what an operator set up. */
export function createDeviceApi(deps: LegacyRouteDeps & RuntimeRouteDeps & { log: Logger }): HttpServer {
  const app = createHttpServer({ log: deps.log, bodyLimitBytes: DEVICE_BODY_LIMIT_BYTES, statusOf: deviceStatusOf });
  registerLegacyRoutes(app, deps);
  registerRuntimeRoutes(app, deps);
  return app;
}
