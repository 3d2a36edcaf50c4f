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
  /** Told what was served and how long naming a board took, for /metrics. */
  meter?: DeviceMeter | undefined;
}

export interface DeviceMeter {
  /** The body of a response that left in full (a cut one is not counted). */
  bytesServed(path: 'chunks' | 'runtime' | 'seed-image', bytes: number): void;
  /** From an enroll (`v1`) or config (`seed`) request's arrival to the reply naming the board. */
  assigned(contract: 'v1' | 'seed', seconds: number): void;
}

/** The routes whose bodies are counted, by where they serve from. */
const SERVED_BY_ROUTE: Record<string, Parameters<DeviceMeter['bytesServed']>[0]> = {
  '/v1/deployments/:id/chunks/:index': 'chunks',
  '/v1/runtime/:file': 'runtime',
  '/images/:file': 'seed-image',
};
const ASSIGNED_BY_ROUTE: Record<string, Parameters<DeviceMeter['assigned']>[0]> = {
  '/v1/enroll': 'v1',
  '/api/config': 'seed',
};

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
  const meter = deps.meter;
  if (meter)
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? '';
      const path = SERVED_BY_ROUTE[route];
      // Content-Length is what the route promised; `writableFinished` says all of it was handed to the socket.
      if (path && req.method === 'GET' && reply.statusCode < 300 && reply.raw.writableFinished)
        meter.bytesServed(path, Number(reply.getHeader('content-length') ?? 0));
      const contract = ASSIGNED_BY_ROUTE[route];
      if (contract && reply.statusCode === 200) meter.assigned(contract, reply.elapsedTime / 1000);
    });
  return app;
}

export type { BootTokenVerifier } from './auth.js';
export { DeviceApiError, type DeviceApiErrorCode } from './errors.js';
