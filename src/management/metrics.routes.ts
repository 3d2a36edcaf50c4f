import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import type { ErrorBody, HttpServer } from '../lib/http-server.js';
import { secretsEqual } from './auth/secrets.js';

/** What serves the exposition text; the composition root hands in the one metrics registry. */
export interface MetricsSource {
  scrape(): Promise<{ contentType: string; text: string }>;
  /** The served-bytes rate the system status shows as the server link's use. */
  servedBytesPerSecond(): number;
}

const isLoopback = (ip: string) => /^(127\.|::ffff:127\.)/.test(ip) || ip === '::1';

/** The bearer token of an `Authorization: Bearer …` header, if the request has one. */
function bearerOf(req: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/**
 * `GET /metrics` in the Prometheus text format, outside /api/v1: a scraper has no session, so it
 * shows the token of management.metrics.token, or comes from this machine when fromLocalhost is
 * set. Off (404) while neither is configured.
 */
export function registerMetricsRoute(
  app: HttpServer,
  config: Readonly<Config['management']['metrics']>,
  source: MetricsSource,
): void {
  app.get('/metrics', async (req, reply) => {
    const refuse = (status: number, error: string, code = 'METRICS_REFUSED') =>
      reply.code(status).send({ error, code } satisfies ErrorBody);
    if (config.token === '' && !config.fromLocalhost)
      return refuse(
        404,
        '/metrics is off: set management.metrics.token (for a scraper) or management.metrics.fromLocalhost',
        'NOT_FOUND',
      );
    const local = config.fromLocalhost && isLoopback(req.ip);
    if (!local) {
      const token = bearerOf(req);
      if (config.token === '')
        return refuse(403, `/metrics answers only requests from this machine (management.metrics.fromLocalhost)`);
      if (token === undefined) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        return refuse(401, '/metrics needs the token of management.metrics.token: Authorization: Bearer TOKEN');
      }
      if (!secretsEqual(token, config.token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics", error="invalid_token"');
        return refuse(401, 'the bearer token is not management.metrics.token');
      }
    }
    const { contentType, text } = await source.scrape();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(text);
  });
}
