import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { DeploymentService } from '../fleet/index.js';
import type { ImageService } from '../images/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { HealthReply } from '../protocol/health.js';
import { imageFileName, type Image } from '../protocol/images.js';
import {
  SEED_API_VERSION,
  SeedConfigReply,
  SeedConfigRequest,
  SeedStatusReply,
  SeedStatusRequest,
} from '../protocol/seed-api.js';
import { DeviceApiError } from './errors.js';
import { sendBytes } from './send-bytes.js';

export interface SeedRouteDeps {
  deployments: DeploymentService;
  images: ImageService;
  health: () => Promise<HealthReply>;
}

/** What an image file name may look like (`imageFileName`: PRODUCT-VERSION.img); anything else is refused before any lookup. */
const IMAGE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,120}\.img$/;
/** The seed's names for the active image of a product (`kxp2_master.img`). */
const SEED_MASTER_NAME = /^([a-z0-9]{1,16})_master\.img$/;

/** The address the board reached us on, as the seed's `server_ip` gave it (IPv4-mapped IPv6 unwrapped). */
function serverIp(req: FastifyRequest): string {
  return (req.socket.localAddress ?? '').replace(/^::ffff:/, '');
}

/**
 * The seed's device routes (`POST /api/config`, `POST /api/status`, `GET /images/<file>`,
 * `GET /health`), answered as its installer expects; docs/device-api.md has the contract. They
 * carry no token, as the seed had none: the deployment service decides what they may touch.
 */
export function registerSeedRoutes(app: HttpServer, deps: SeedRouteDeps): void {
  const { deployments, images } = deps;

  app.post('/api/config', { schema: { body: SeedConfigRequest, response: { 200: SeedConfigReply } } }, async (req) => {
    const body = req.body;
    const { enrollment, image } = await deployments.seedConfig({
      product: body.product_type,
      venue: body.venue_code,
      serial: body.serial_number,
      mac: body.mac_address,
      ip: req.ip,
    });
    const d = enrollment.deployment;
    const filename = imageFileName(image);
    return {
      server_ip: serverIp(req),
      hostname: enrollment.hostname,
      product_type: d.product,
      venue_code: d.venue,
      image_url: `${req.protocol}://${req.host}/images/${filename}`,
      image_size: image.sizeBytes,
      image_checksum: image.sha256,
      version: SEED_API_VERSION,
      timestamp: new Date().toISOString(),
      serial_number: d.serial,
      mac_address: d.mac,
      deployment_id: d.id,
      reused_hostname: enrollment.reused,
      image_filename: filename,
      image_version: image.version,
    };
  });

  app.post('/api/status', { schema: { body: SeedStatusRequest, response: { 200: SeedStatusReply } } }, async (req) => {
    const b = req.body;
    const outcome = await deployments.seedStatus({
      status: b.status,
      serial: b.serial,
      mac: b.mac_address,
      hostname: b.hostname,
      message: b.message,
      errorMessage: b.error_message,
    });
    return {
      received: true as const,
      hostname: outcome.hostname,
      deployment_id: outcome.deployment?.id ?? null,
      deployment_status: outcome.deployment?.status ?? null,
    };
  });

  async function imageNamed(file: string): Promise<Image> {
    const master = SEED_MASTER_NAME.exec(file);
    if (master) {
      const product = master[1]!.toUpperCase();
      const active = await images.active(product);
      if (!active)
        throw new DeviceApiError(
          'DEVICE_IMAGE_FILE_UNKNOWN',
          `Product ${product} has no active image to serve as ${file}`,
          { product },
        );
      return active;
    }
    if (!IMAGE_FILE_NAME.test(file) || file.includes('..')) {
      throw new DeviceApiError(
        'DEVICE_IMAGE_NAME_INVALID',
        `${JSON.stringify(file)} is not an image file name (PRODUCT-VERSION.img or product_master.img)`,
        {},
      );
    }
    const image = await images.findByFileName(file);
    if (!image) throw new DeviceApiError('DEVICE_IMAGE_FILE_UNKNOWN', `No image is published as ${file}`, {});
    return image;
  }

  app.get(
    '/images/:file',
    { schema: { params: Type.Object({ file: Type.String({ maxLength: 200 }) }) } },
    async (req, reply) => {
      const image = await imageNamed(req.params.file);
      return sendBytes(req, reply, {
        totalBytes: image.sizeBytes,
        etag: `"${image.sha256}"`,
        open: (range) => images.openRaw(image.id, range),
      });
    },
  );

  app.get('/health', { schema: { response: { 200: HealthReply, 503: HealthReply } } }, async (_req, reply) => {
    const health = await deps.health();
    return reply.code(health.status === 'healthy' ? 200 : 503).send(health);
  });
}
