import Type from 'typebox';
import type { HttpServer } from '../lib/http-server.js';
import type { ImageService } from '../images/index.js';
import { Image } from '../protocol/images.js';
import { ForceQuery, IdParam, NoContent } from './route-schemas.js';

/** Master images: list, inspect, choose the active one per product, delete. */
export function registerImageRoutes(app: HttpServer, { images }: { images: ImageService }): void {
  const tags = ['images'];
  app.get(
    '/images',
    { config: { access: 'viewer' }, schema: { tags, querystring: Type.Object({ product: Type.Optional(Type.String({ maxLength: 16 })) }, { additionalProperties: false }), response: { 200: Type.Array(Image) } } },
    (req) => images.list({ product: req.query.product }),
  );
  app.get('/images/:id', { config: { access: 'viewer' }, schema: { tags, params: IdParam, response: { 200: Image } } }, (req) => images.get(req.params.id));
  app.post('/images/:id/activate', { config: { access: 'operator', audit: 'image.activate' }, schema: { tags, params: IdParam, response: { 200: Image } } }, (req) => images.activate(req.params.id));
  app.post('/images/:id/deactivate', { config: { access: 'operator', audit: 'image.deactivate' }, schema: { tags, params: IdParam, response: { 200: Image } } }, (req) =>
    images.deactivate(req.params.id),
  );
  app.delete('/images/:id', { config: { access: 'operator', audit: 'image.delete' }, schema: { tags, params: IdParam, querystring: ForceQuery, response: { 204: NoContent } } }, async (req, reply) => {
    await images.remove(req.params.id, { force: req.query.force ?? false });
    return reply.code(204).send(null);
  });
}
