import type { Fleet } from '../fleet/index.js';
import type { ImageService } from '../images/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { HealthReply } from '../protocol/health.js';
import { imageFileName } from '../protocol/images.js';
import { SeedConfigReply, SeedConfigRequest } from './legacy.schema.js';

export interface LegacyRouteDeps {
  fleet: Fleet;
  images: ImageService;
  health: () => Promise<HealthReply>;
}

/** The seed's device routes, answered as its installers expect. */
export function registerLegacyRoutes(app: HttpServer, deps: LegacyRouteDeps): void {
  const { fleet, images } = deps;

  app.post('/api/config', { schema: { body: SeedConfigRequest, response: { 200: SeedConfigReply } } }, async (req) => {
    const body = req.body;
    const enrollment = await fleet.enrollment.enroll({
      serial: body.serial_number,
      macs: body.mac_address ? [body.mac_address] : [],
      venue: body.venue_code,
      product: body.product_type,
      ip: req.ip,
    });
    const { deployment } = enrollment;
    const image = await images.active(deployment.product);
    if (image) await fleet.enrollment.attachImage(deployment.id, image.id);
    const filename = image ? imageFileName(image) : null;
    return {
      hostname: enrollment.hostname,
      product_type: deployment.product,
      venue_code: deployment.venue,
      serial_number: deployment.serial,
      mac_address: deployment.mac,
      deployment_id: deployment.id,
      reused_hostname: enrollment.reused,
      image_filename: filename,
      image_url: filename ? `${req.protocol}://${req.host}/images/${filename}` : null,
      image_checksum: image?.sha256 ?? null,
      image_size: image?.sizeBytes ?? null,
      image_version: image?.version ?? null,
      server_time: new Date().toISOString(),
    };
  });

  app.get('/health', { schema: { response: { 200: HealthReply, 503: HealthReply } } }, async (_req, reply) => {
    const health = await deps.health();
    return reply.code(health.status === 'ok' ? 200 : 503).send(health);
  });
}
