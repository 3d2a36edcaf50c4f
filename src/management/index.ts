import { createHttpServer, type HttpServer } from '../lib/http-server.js';
import type { Logger } from '../lib/logger.js';
import { HealthReply } from '../protocol/health.js';

const MANAGEMENT_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The HTTP surface for operators. It lives on its own listener so that nothing on the deployment
 * LAN reaches it; for now it answers only its health check.
 */
export function createManagementApi(deps: { log: Logger; health: () => Promise<HealthReply> }): HttpServer {
  const app = createHttpServer({ log: deps.log, bodyLimitBytes: MANAGEMENT_BODY_LIMIT_BYTES, statusOf: () => undefined });
  app.get('/health', { schema: { response: { 200: HealthReply, 503: HealthReply } } }, async (_req, reply) => {
    const health = await deps.health();
    return reply.code(health.status === 'ok' ? 200 : 503).send(health);
  });
  return app;
}
