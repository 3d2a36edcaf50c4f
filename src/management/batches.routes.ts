import Type from 'typebox';
import type { Fleet } from '../fleet/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { Batch, BatchInput } from '../protocol/fleet.js';
import { BatchQuery } from '../protocol/management-api.js';
import { IdParam } from './route-schemas.js';

/** Deployment batches: create, list, and move through activate / pause / cancel. */
export function registerBatchRoutes(app: HttpServer, { fleet }: { fleet: Fleet }): void {
  const tags = ['batches'];
  app.get(
    '/batches',
    { config: { access: 'viewer' }, schema: { tags, querystring: BatchQuery, response: { 200: Type.Array(Batch) } } },
    (req) => fleet.batches.list({ venue: req.query.venue, status: req.query.status }),
  );
  app.post(
    '/batches',
    {
      config: { access: 'operator', audit: 'batch.create' },
      schema: { tags, body: BatchInput, response: { 201: Batch } },
    },
    async (req, reply) => reply.code(201).send(await fleet.batches.create(req.body)),
  );
  app.get(
    '/batches/:id',
    { config: { access: 'viewer' }, schema: { tags, params: IdParam, response: { 200: Batch } } },
    (req) => fleet.batches.get(req.params.id),
  );
  for (const action of ['activate', 'pause', 'cancel'] as const) {
    app.post(
      `/batches/:id/${action}`,
      {
        config: { access: 'operator', audit: `batch.${action}` },
        schema: { tags, params: IdParam, response: { 200: Batch } },
      },
      (req) => fleet.batches.apply(req.params.id, action),
    );
  }
}
