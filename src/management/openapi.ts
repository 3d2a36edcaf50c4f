import type { RouteRecord } from '../lib/http-server.js';
import type { Access } from './auth/guard.js';

declare module 'fastify' {
  interface FastifySchema {
    /** Groups the route in the OpenAPI document. */
    tags?: string[];
    description?: string;
    /** Content types of a successful answer, when not only JSON. */
    produces?: string[];
  }
}

const ErrorBody = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'what went wrong and what to do' },
    code: { type: 'string' },
    details: { type: 'object' },
  },
};

const ERRORS: Record<string, string> = {
  '400': 'invalid input (code REQUEST_INVALID or a *_INVALID code); the message names the field',
  '401': 'not signed in, session expired, or API token refused',
  '403':
    'role too low (AUTH_FORBIDDEN), CSRF token missing or wrong (AUTH_CSRF), untrusted Origin (AUTH_ORIGIN) or Host (AUTH_HOST)',
  '404': 'no such resource',
  '409': 'conflicts with the current state (exists, in use, wrong transition)',
  '429': 'too many failed sign-ins (Retry-After says when to try again)',
};

/** Converts `/venues/:code` to `/venues/{code}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersOf(schema: Record<string, unknown>, where: 'path' | 'query'): unknown[] {
  const s = schema[where === 'path' ? 'params' : 'querystring'] as
    { properties?: Record<string, Record<string, unknown>>; required?: string[] } | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (s?.required ?? []).includes(name),
    ...(typeof p['description'] === 'string' && { description: p['description'] }),
    schema: p,
  }));
}

function operationOf(r: RouteRecord): Record<string, unknown> {
  const s = r.schema;
  const access = (r.config['access'] as Access | undefined) ?? 'admin';
  const produces = (s['produces'] as string[] | undefined) ?? ['application/json'];
  const responses: Record<string, unknown> = {};
  for (const [status, body] of Object.entries((s['response'] ?? {}) as Record<string, Record<string, unknown>>)) {
    const empty = body['type'] === 'null';
    responses[status] = {
      description: status.startsWith('2') ? 'success' : 'see schema',
      ...(!empty && {
        content: Object.fromEntries(
          produces.map((t) => [t, { schema: t === 'application/json' ? body : { type: 'string' } }]),
        ),
      }),
    };
  }
  if (Object.keys(responses).length === 0)
    responses['200'] = {
      description: 'success',
      content: Object.fromEntries(produces.map((t) => [t, { schema: { type: 'string' } }])),
    };
  for (const [status, description] of Object.entries(ERRORS)) {
    if (access === 'public' && (status === '401' || status === '403')) continue;
    responses[status] ??= {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    operationId: `${r.method.toLowerCase()}${openApiPath(r.url)
      .replace(/[{}]/g, '')
      .replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    tags: s['tags'] ?? ['other'],
    summary: `${r.method} ${openApiPath(r.url)}`,
    ...(typeof s['description'] === 'string' && { description: s['description'] }),
    'x-required-role': access,
    security: access === 'public' ? [] : [{ session: [], csrf: [] }, { bearer: [] }],
    parameters: [...parametersOf(s, 'path'), ...parametersOf(s, 'query')],
    ...(s['body'] !== undefined && {
      requestBody: { required: true, content: { 'application/json': { schema: s['body'] } } },
    }),
    responses,
  };
}

/** The OpenAPI 3.1 document of the routes, their schemas being the very ones Fastify validates with. */
export function buildOpenApi(routes: readonly RouteRecord[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) (paths[openApiPath(r.url)] ??= {})[r.method.toLowerCase()] = operationOf(r);
  return {
    openapi: '3.1.0',
    info: {
      title: 'rpi-deploy management API',
      version: info.version,
      description:
        'Operators’ API: sign in with POST /api/v1/auth/login (session cookie + X-CSRF-Token on changes) or use an API token as Authorization: Bearer.',
    },
    paths,
    components: {
      schemas: { Error: ErrorBody },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'rpd_session' },
        csrf: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description: 'needed with the session cookie on POST, PATCH and DELETE',
        },
        bearer: { type: 'http', scheme: 'bearer', description: 'API token (rpd_…) made by an admin' },
      },
    },
  };
}
