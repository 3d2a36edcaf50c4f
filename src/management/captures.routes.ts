import Type from 'typebox';
import type { CaptureService } from '../images/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { Capture, CaptureRequestInput, CaptureStatus } from '../protocol/capture.js';
import { IdParam } from './route-schemas.js';

/**
 * Capture over the network: an operator marks a board, whose next netboot reads its card into a
 * new image version (progress and the end: capture.status live events); list, inspect, cancel.
 */
export function registerCaptureRoutes(app: HttpServer, { captures }: { captures: CaptureService }): void {
  const tags = ['images'];
  app.post(
    '/captures',
    {
      config: { access: 'operator', audit: 'image.capture' },
      schema: { tags, body: CaptureRequestInput, response: { 201: Capture } },
    },
    async (req, reply) => reply.code(201).send(await captures.request(req.body)),
  );
  app.get(
    '/captures',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        querystring: Type.Object({ status: Type.Optional(CaptureStatus) }, { additionalProperties: false }),
        response: { 200: Type.Array(Capture) },
      },
    },
    (req) => captures.list({ status: req.query.status }),
  );
  app.get(
    '/captures/:id',
    { config: { access: 'viewer' }, schema: { tags, params: IdParam, response: { 200: Capture } } },
    (req) => captures.get(req.params.id),
  );
  app.post(
    '/captures/:id/cancel',
    {
      config: { access: 'operator', audit: 'image.capture-cancel' },
      schema: { tags, params: IdParam, response: { 200: Capture } },
    },
    (req) => captures.cancel(req.params.id),
  );
}
