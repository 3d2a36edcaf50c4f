import process from 'node:process';
import type { HttpServer } from '../lib/http-server.js';
import { HealthReply } from '../protocol/health.js';
import { SystemStatus } from '../protocol/management-api.js';
import type { DiskWatch } from './disk-watch.js';

export interface SystemFacts {
  version: string;
  startedAt: number;
  listeners: () => SystemStatus['listeners'];
  dhcp: () => SystemStatus['dhcp'];
  netboot: () => Promise<SystemStatus['netboot']>;
  database: () => Promise<SystemStatus['database']>;
  liveClients: () => number;
  servedBytesPerSec: () => number;
  doctor: () => Promise<SystemStatus['doctor']>;
}

/** What the server is and how it is doing: listeners, DHCP, disk, versions. Any signed-in role. */
export function registerSystemRoutes(
  app: HttpServer,
  deps: { facts: SystemFacts; disk: DiskWatch; clock: () => Date },
): void {
  const { facts } = deps;
  app.get(
    '/system',
    { config: { access: 'viewer' }, schema: { tags: ['system'], response: { 200: SystemStatus } } },
    async () => ({
      version: facts.version,
      node: process.version,
      uptimeSeconds: Math.round((deps.clock().getTime() - facts.startedAt) / 1000),
      listeners: facts.listeners(),
      dhcp: facts.dhcp(),
      netboot: await facts.netboot(),
      disk: await deps.disk.check(),
      database: await facts.database(),
      liveClients: facts.liveClients(),
      deviceLink: { servedBytesPerSec: facts.servedBytesPerSec() },
      doctor: await facts.doctor(),
    }),
  );
}

/** GET /health stays open, as on the device listener, for monitoring. */
export function registerHealthRoute(app: HttpServer, health: () => Promise<HealthReply>): void {
  app.get(
    '/health',
    { schema: { tags: ['system'], response: { 200: HealthReply, 503: HealthReply } } },
    async (_req, reply) => {
      const h = await health();
      return reply.code(h.status === 'healthy' ? 200 : 503).send(h);
    },
  );
}
