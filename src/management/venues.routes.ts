import Type from 'typebox';
import type { Fleet } from '../fleet/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { Product, ProductInput, ProductPatch, Venue, VenueInput, VenuePatch, VenueStats } from '../protocol/fleet.js';
import { CodeParam, ForceQuery, NoContent } from './route-schemas.js';

/** Venues and products: what a deployment day is set up with. */
export function registerVenueRoutes(app: HttpServer, { fleet }: { fleet: Fleet }): void {
  const tags = ['venues'];
  app.get('/venues', { config: { access: 'viewer' }, schema: { tags, response: { 200: Type.Array(Venue) } } }, () =>
    fleet.venues.list(),
  );
  app.post(
    '/venues',
    {
      config: { access: 'operator', audit: 'venue.create' },
      schema: { tags, body: VenueInput, response: { 201: Venue } },
    },
    async (req, reply) => reply.code(201).send(await fleet.venues.create(req.body)),
  );
  app.get(
    '/venues/:code',
    { config: { access: 'viewer' }, schema: { tags, params: CodeParam, response: { 200: Venue } } },
    (req) => fleet.venues.get(req.params.code),
  );
  app.patch(
    '/venues/:code',
    {
      config: { access: 'operator', audit: 'venue.update' },
      schema: { tags, params: CodeParam, body: VenuePatch, response: { 200: Venue } },
    },
    (req) => fleet.venues.update(req.params.code, req.body),
  );
  app.delete(
    '/venues/:code',
    {
      config: { access: 'operator', audit: 'venue.delete' },
      schema: {
        tags,
        params: CodeParam,
        querystring: ForceQuery,
        response: { 200: Type.Object({ releasedHostnames: Type.Array(Type.String()) }) },
      },
    },
    (req) => fleet.venues.remove(req.params.code, { force: req.query.force ?? false }),
  );
  app.get(
    '/venues/:code/stats',
    { config: { access: 'viewer' }, schema: { tags, params: CodeParam, response: { 200: VenueStats } } },
    (req) => fleet.venues.stats(req.params.code),
  );

  const productTags = ['products'];
  app.get(
    '/products',
    { config: { access: 'viewer' }, schema: { tags: productTags, response: { 200: Type.Array(Product) } } },
    () => fleet.products.list(),
  );
  app.post(
    '/products',
    {
      config: { access: 'operator', audit: 'product.create' },
      schema: { tags: productTags, body: ProductInput, response: { 201: Product } },
    },
    async (req, reply) => reply.code(201).send(await fleet.products.create(req.body)),
  );
  app.patch(
    '/products/:code',
    {
      config: { access: 'operator', audit: 'product.update' },
      schema: { tags: productTags, params: CodeParam, body: ProductPatch, response: { 200: Product } },
    },
    (req) => fleet.products.update(req.params.code, req.body),
  );
  app.delete(
    '/products/:code',
    {
      config: { access: 'operator', audit: 'product.delete' },
      schema: { tags: productTags, params: CodeParam, response: { 204: NoContent } },
    },
    async (req, reply) => {
      await fleet.products.remove(req.params.code);
      return reply.code(204).send(null);
    },
  );
}
