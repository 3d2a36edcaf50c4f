import type { Fleet } from '../fleet/index.js';
import type { ImageService } from '../images/index.js';
import { isAppError } from '../lib/errors.js';
import type { HttpServer } from '../lib/http-server.js';
import { AGENT_API_VERSION, EnrollReply, EnrollRequest, type DeploymentPlan } from '../protocol/agent-api.js';
import type { Deployment } from '../protocol/fleet.js';
import type { CustomisationFormat } from '../protocol/firstboot.js';
import type { OsGeneration } from '../protocol/manifest.js';
import type { BootTokenVerifier } from './auth.js';
import { DeviceApiError } from './errors.js';

export interface EnrollRouteDeps {
  fleet: Fleet;
  images: ImageService;
  /** Checks per-boot tokens when netboot issues them; without it a boot token is not required. */
  bootTokens?: BootTokenVerifier | undefined;
  progressIntervalMs: number;
}

const FORMAT_OF: Record<OsGeneration, CustomisationFormat | null> = { 'cloud-init': 'cloud-init', firstrun: 'firstrun', unknown: null };

/**
 * POST /v1/enroll: the fleet names the board and opens a deployment; the answer is the plan for
 * it. A deployment that cannot get a plan (no active image, an image that cannot be customised)
 * is closed as failed at once, so the history says why.
 */
export function registerEnrollRoutes(app: HttpServer, deps: EnrollRouteDeps): void {
  const { fleet, images } = deps;

  app.post('/v1/enroll', { schema: { body: EnrollRequest, response: { 200: EnrollReply } } }, async (req) => {
    const body = req.body;
    if (body.bootToken !== undefined && deps.bootTokens && !(await deps.bootTokens.verify(body.bootToken, body.serial))) {
      throw new DeviceApiError('DEVICE_BOOT_TOKEN_INVALID', 'The boot token is not valid for this board; power-cycle it to netboot again', {});
    }
    const enrollment = await fleet.enrollment.enroll({
      serial: body.serial,
      macs: body.macs,
      model: body.model,
      venue: body.venue,
      product: body.product,
      ip: req.ip,
    });
    const { deployment } = enrollment;
    try {
      const { plan, token } = await planFor(deployment);
      return { apiVersion: AGENT_API_VERSION, deploymentId: deployment.id, hostname: enrollment.hostname, reusedHostname: enrollment.reused, token, plan };
    } catch (err) {
      if (isAppError(err)) await fleet.enrollment.advance(deployment.id, 'failed', { error: `${err.code}: ${err.message}` });
      throw err;
    }
  });

  async function planFor(d: Deployment): Promise<{ plan: DeploymentPlan; token: string }> {
    const image = await images.active(d.product);
    if (!image) {
      throw new DeviceApiError('DEVICE_NO_IMAGE', `Product ${d.product} has no active image; import one: rpi-deploy image add FILE --product ${d.product} --version V --activate`, {
        product: d.product,
      });
    }
    const manifest = await images.manifest(image.id);
    const format = FORMAT_OF[manifest.boot?.osGeneration ?? 'unknown'];
    if (!format) {
      throw new DeviceApiError(
        'DEVICE_IMAGE_NOT_CUSTOMISABLE',
        `Image ${image.product} ${image.version} shows neither cloud-init nor firstrun on its boot partition, so its hostname cannot be set; use a Raspberry Pi OS image`,
        { imageId: image.id },
      );
    }
    await fleet.enrollment.attachImage(d.id, image.id);
    const token = await fleet.sessions.open(d.id);
    const plan: DeploymentPlan = {
      manifest,
      customisation: {
        format,
        hostname: d.hostname,
        instanceId: `rpi-deploy-${d.id}-${Date.parse(d.enrolledAt)}`,
        settings: await fleet.firstBoot.resolve(d.venue, d.product),
      },
      verifiedChunks: await fleet.sessions.verifiedChunks(d.serial, image.id),
      progressIntervalMs: deps.progressIntervalMs,
    };
    return { plan, token };
  }
}
