import type { Fleet } from '../fleet/index.js';
import type { CaptureService, ImageService } from '../images/index.js';
import type { EventBus } from '../lib/event-bus.js';
import type { FleetEvent } from '../protocol/events.js';
import type { HttpServer } from '../lib/http-server.js';
import type { AuditLog } from './audit.service.js';
import { registerAuditHook } from './audit.hook.js';
import { registerAuthRoutes } from './auth/auth.routes.js';
import { recheck, registerGuard } from './auth/guard.js';
import type { LoginLimiter } from './auth/login-limiter.js';
import type { OriginPolicy } from './auth/request-origin.js';
import type { SessionService } from './auth/sessions.service.js';
import type { SetupGate } from './auth/setup.js';
import type { TokenService } from './auth/tokens.service.js';
import type { UserService } from './auth/users.service.js';
import { registerBatchRoutes } from './batches.routes.js';
import { registerDeploymentRoutes } from './deployments.routes.js';
import { registerDeviceRoutes } from './devices.routes.js';
import type { DiskWatch } from './disk-watch.js';
import { registerCaptureRoutes } from './captures.routes.js';
import { registerImageRoutes } from './images.routes.js';
import type { LiveHub } from './live-hub.js';
import { registerLiveRoute } from './live.routes.js';
import { buildOpenApi } from './openapi.js';
import { registerPoolRoutes } from './pools.routes.js';
import { registerSystemRoutes, type SystemFacts } from './system.routes.js';
import { registerUserRoutes } from './users.routes.js';
import { registerVenueRoutes } from './venues.routes.js';

export interface ApiDeps {
  fleet: Fleet;
  events: EventBus<FleetEvent>;
  images: ImageService;
  captures: CaptureService;
  users: UserService;
  sessions: SessionService;
  tokens: TokenService;
  audit: AuditLog;
  setup: SetupGate;
  limiter: LoginLimiter;
  hub: LiveHub;
  disk: DiskWatch;
  facts: SystemFacts;
  policy: OriginPolicy;
  clock: () => Date;
  sessionMaxAgeSeconds: number;
}

/** Everything under /api/v1: the guard and audit hooks first, then every route, then the document describing them. */
export function registerApi(api: HttpServer, deps: ApiDeps): void {
  registerGuard(api, deps);
  registerAuditHook(api, deps.audit);

  registerAuthRoutes(api, deps);
  registerVenueRoutes(api, deps);
  registerPoolRoutes(api, deps);
  registerBatchRoutes(api, deps);
  registerDeploymentRoutes(api, deps);
  registerDeviceRoutes(api, deps);
  registerImageRoutes(api, deps);
  registerCaptureRoutes(api, deps);
  registerUserRoutes(api, deps);
  registerSystemRoutes(api, deps);
  registerLiveRoute(api, { hub: deps.hub, stillAllowed: (req) => recheck(req, deps) });

  let document: Record<string, unknown> | undefined;
  api.get(
    '/openapi.json',
    { config: { access: 'public' }, schema: { tags: ['docs'], description: 'this document' } },
    async () =>
      (document ??= buildOpenApi(
        api.routeList.filter((r) => r.url.startsWith(api.prefix)),
        { version: deps.facts.version },
      )),
  );
}
