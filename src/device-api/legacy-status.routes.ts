import Type from 'typebox';
import { parseSerial, type Fleet } from '../fleet/index.js';
import type { ImageService } from '../images/index.js';
import type { HttpServer } from '../lib/http-server.js';
import type { Deployment, DeploymentStatus } from '../protocol/fleet.js';
import { DeviceApiError } from './errors.js';
import { SeedStatusReply, SeedStatusRequest, type SEED_STATUSES } from './legacy.schema.js';
import { sendBytes } from './send-bytes.js';

export interface LegacyStatusRouteDeps {
  fleet: Fleet;
  images: ImageService;
}

/** `starting` is the seed's word for the moment after `/api/config`: the deployment is already `enrolled`. */
const PHASE_OF: Record<(typeof SEED_STATUSES)[number], DeploymentStatus> = {
  starting: 'enrolled',
  downloading: 'downloading',
  verifying: 'verifying',
  customizing: 'customizing',
  success: 'success',
  failed: 'failed',
};

/** What an image file name may look like (`imageFileName`: PRODUCT-VERSION.img); anything else is refused before any lookup. */
const IMAGE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,120}\.img$/;

/**
 * The seed installer's status reports and image download. They carry no token (the seed had
 * none), so they may touch only deployments opened through `/api/config`, never a v1 one.
 */
export function registerLegacyStatusRoutes(app: HttpServer, deps: LegacyStatusRouteDeps): void {
  const { fleet, images } = deps;

  async function deploymentFor(serialInput: string, deploymentId: number | undefined): Promise<Deployment> {
    const { serial } = parseSerial(serialInput);
    let d: Deployment | undefined;
    if (deploymentId !== undefined) {
      d = (await fleet.records.deployment(deploymentId)).deployment;
      if (d.serial !== serial) throw new DeviceApiError('DEVICE_STATUS_NO_DEPLOYMENT', `Deployment ${deploymentId} is not board ${serial}'s`, { deploymentId });
    } else {
      d = (await fleet.records.device(serial)).deployments[0];
      if (!d) throw new DeviceApiError('DEVICE_STATUS_NO_DEPLOYMENT', `Board ${serial} has no deployment; call /api/config first`, { serial });
    }
    if (await fleet.sessions.hasToken(d.id)) {
      throw new DeviceApiError('DEVICE_TOKEN_REQUIRED', `Deployment ${d.id} belongs to the v1 agent; it reports through /v1/deployments/${d.id}/progress with its token`, { deploymentId: d.id });
    }
    return d;
  }

  app.post('/api/status', { schema: { body: SeedStatusRequest, response: { 200: SeedStatusReply } } }, async (req) => {
    const body = req.body;
    const d = await deploymentFor(body.serial_number, body.deployment_id);
    const reason = body.error_message ?? body.error ?? body.message ?? undefined;
    const { deployment } = await fleet.enrollment.advance(d.id, PHASE_OF[body.status], { error: reason ?? 'the installer reported failed' });
    return { status: 'ok' as const, deployment_id: deployment.id, hostname: deployment.hostname, deployment_status: deployment.status };
  });

  app.get('/images/:file', { schema: { params: Type.Object({ file: Type.String({ maxLength: 200 }) }) } }, async (req, reply) => {
    const { file } = req.params;
    if (!IMAGE_FILE_NAME.test(file) || file.includes('..')) {
      throw new DeviceApiError('DEVICE_IMAGE_NAME_INVALID', `${JSON.stringify(file)} is not an image file name (PRODUCT-VERSION.img)`, {});
    }
    const image = await images.findByFileName(file);
    if (!image) throw new DeviceApiError('DEVICE_IMAGE_FILE_UNKNOWN', `No image is published as ${file}`, {});
    return sendBytes(req, reply, { totalBytes: image.sizeBytes, etag: `"${image.sha256}"`, open: (range) => images.openRaw(image.id, range) });
  });
}
