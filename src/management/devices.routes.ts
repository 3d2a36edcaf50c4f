import Type from 'typebox';
import type { Fleet } from '../fleet/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { Deployment, Device } from '../protocol/fleet.js';
import { SerialParam } from './route-schemas.js';

const DevicePageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
);

/** Boards that have been seen, each with its deployments; re-imaging one. */
export function registerDeviceRoutes(app: HttpServer, { fleet }: { fleet: Fleet }): void {
  const tags = ['devices'];
  app.get(
    '/devices',
    {
      config: { access: 'viewer' },
      schema: { tags, querystring: DevicePageQuery, response: { 200: Type.Array(Device) } },
    },
    (req) => fleet.records.devices({ limit: req.query.limit ?? 100, offset: req.query.offset ?? 0 }),
  );
  app.get(
    '/devices/:serial',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        params: SerialParam,
        response: { 200: Type.Object({ device: Device, deployments: Type.Array(Deployment) }) },
      },
    },
    (req) => fleet.records.device(req.params.serial),
  );
  app.post(
    '/devices/:serial/reimage',
    {
      config: { access: 'operator', audit: 'device.reimage' },
      schema: { tags, params: SerialParam, response: { 200: Device } },
    },
    (req) => fleet.enrollment.requestReimage(req.params.serial),
  );
}
