import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyBaseLogger,
  type RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAppError, type ErrorKind } from './errors.js';
import type { Logger } from './logger.js';

/** A Fastify instance whose route schemas are TypeBox schemas. */
export type HttpServer = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** A route as registered, for documents and tests that list what a surface answers. */
export interface RouteRecord {
  method: string;
  url: string;
  schema: Readonly<Record<string, unknown>>;
  config: Readonly<Record<string, unknown>>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of this server, including those of its plugins, in registration order (no HEAD twins). */
    readonly routeList: readonly RouteRecord[];
  }
}

/** The one error body every route of every surface answers with. */
export interface ErrorBody {
  error: string;
  code: string;
  details?: Record<string, unknown>;
}

/** The HTTP status of each kind of failure, shared by every listener. */
const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unknown: 404,
  conflict: 409,
  'out-of-range': 416,
  unavailable: 503,
  failed: 500,
};

/** A component's error kinds as HTTP statuses, to spread into a listener's status table. */
export function statusesOf<Code extends string>(kinds: Readonly<Record<Code, ErrorKind>>): Record<Code, number> {
  return Object.fromEntries(
    Object.entries<ErrorKind>(kinds).map(([code, kind]) => [code, STATUS_OF_KIND[kind]]),
  ) as Record<Code, number>;
}

export interface HttpServerOptions {
  log: Logger;
  bodyLimitBytes: number;
  /** Maps a component error code to its HTTP status; an unmapped code is a bug and answers 500. */
  statusOf: (code: string) => number | undefined;
  /**
   * Reverse proxies (addresses, CIDR ranges) whose X-Forwarded-For/-Proto/-Host are believed:
   * `req.ip`, `req.protocol` and `req.host` then describe the browser, not the proxy.
   */
  trustProxy?: readonly string[];
  /** PEM certificate (with chain) and key: the listener speaks https only. */
  tls?: { cert: Buffer; key: Buffer };
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: AjvOptions): Ajv {
  return addFormats(new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, ...options }));
}

/**
 * Builds an HTTP surface with schema validation and one error mapping. Bodies are validated
 * strictly (a number where a string belongs is an error, not coerced); query strings and
 * path parameters are coerced, because in a URL everything is text.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  // Typed as Fastify's logger, or Fastify's types would take pino's own for every route.
  const loggerInstance: FastifyBaseLogger = options.log;
  const app = Fastify({
    loggerInstance,
    bodyLimit: options.bodyLimitBytes,
    // Per-request lines would drown the log at fleet scale; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: true,
    ...(options.trustProxy?.length && { trustProxy: [...options.trustProxy] }),
    ...(options.tls && { https: options.tls }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routes: RouteRecord[] = [];
  app.decorate('routeList', routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method !== 'HEAD')
        routes.push({
          method,
          url: r.url,
          schema: (r.schema ?? {}) as Record<string, unknown>,
          config: (r.config ?? {}) as Record<string, unknown>,
        });
    }
  });

  const strict = makeAjv({ coerceTypes: false });
  const coercing = makeAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = { error: `No route ${req.method} ${req.url.split('?')[0]}`, code: 'NOT_FOUND' };
    return reply.code(404).send(body);
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isAppError(err)) {
      const status = options.statusOf(err.code);
      if (status !== undefined) {
        const body: ErrorBody = { error: err.message, code: err.code, details: { ...err.details } };
        // A refusal that says when to come back says it the way HTTP clients and proxies read it too.
        const retryAfterSeconds = err.details['retryAfterSeconds'];
        if (typeof retryAfterSeconds === 'number') void reply.header('retry-after', String(retryAfterSeconds));
        return reply.code(status).send(body);
      }
    }
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      const first = err.validation[0];
      const field = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : '';
      const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
      const what = missing
        ? `${where}.${missing} is required`
        : `${where}${field ? `.${field}` : ''} ${first?.message ?? 'is invalid'}`;
      const body: ErrorBody = { error: what, code: 'REQUEST_INVALID' };
      return reply.code(400).send(body);
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      const body: ErrorBody = { error: err.message, code: err.code ?? 'REQUEST_INVALID' };
      return reply.code(err.statusCode).send(body);
    }
    req.log.error({ err, url: req.url, method: req.method }, 'request failed');
    const body: ErrorBody = { error: 'Internal error; the server log has the details', code: 'INTERNAL' };
    return reply.code(500).send(body);
  });

  return app;
}
