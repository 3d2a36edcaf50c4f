import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { HttpServer } from '../lib/http-server.js';
import type { LiveHub } from './live-hub.js';

const LiveQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'history seq already seen; events after it come first (the Last-Event-ID header wins)',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * GET /events: the live channel, as Server-Sent Events. SSE rather than WebSocket: the stream
 * flows one way only, EventSource reconnects by itself and sends Last-Event-ID (our history seq),
 * cookies and the auth hooks apply as to any GET, and it needs no upgrade handling or extra package.
 */
export function registerLiveRoute(
  app: HttpServer,
  deps: { hub: LiveHub; stillAllowed: (req: FastifyRequest) => Promise<string | null> },
): void {
  app.get(
    '/events',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['live'],
        description:
          'text/event-stream. Unnamed events carry one FleetEvent as JSON ({seq, at, type, data}; id = seq when it is kept in the history). ' +
          'Named events: ready {seq} once caught up; dropped {reason} before the server closes the stream.',
        querystring: LiveQuery,
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      const header = req.headers['last-event-id'];
      const fromHeader = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
      reply.hijack();
      await deps.hub.attach(reply.raw, fromHeader ?? req.query.after, () => deps.stillAllowed(req));
    },
  );
}
