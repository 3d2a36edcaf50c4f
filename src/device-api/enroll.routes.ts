import type { DeploymentService } from '../fleet/index.js';
import type { CaptureService } from '../images/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { AGENT_API_VERSION, EnrollRequest } from '../protocol/agent-api.js';
import { EnrollAnswer } from '../protocol/capture.js';
import { checkBootToken, type BootTokenVerifier } from './auth.js';

export interface EnrollRouteDeps {
  deployments: DeploymentService;
  captures: CaptureService;
  /** Checks per-boot tokens; given when network boot is on, and then a boot token is required. */
  bootTokens?: BootTokenVerifier | undefined;
}

/**
 * POST /v1/enroll: the board is named and gets the plan and token of a new deployment; a board an
 * operator marked for capture gets its capture order instead (and no deployment).
 */
export function registerEnrollRoutes(app: HttpServer, deps: EnrollRouteDeps): void {
  app.post('/v1/enroll', { schema: { body: EnrollRequest, response: { 200: EnrollAnswer } } }, async (req) => {
    const body = req.body;
    await checkBootToken(deps.bootTokens, body.bootToken, body.serial);
    const order = await deps.captures.claim(body.serial);
    if (order)
      return {
        apiVersion: AGENT_API_VERSION,
        capture: { id: order.capture.id, token: order.token, chunkSizeBytes: order.chunkSizeBytes },
      };
    const { enrollment, plan, token } = await deps.deployments.enroll({ ...body, ip: req.ip });
    return {
      apiVersion: AGENT_API_VERSION,
      deploymentId: enrollment.deployment.id,
      hostname: enrollment.hostname,
      reusedHostname: enrollment.reused,
      token,
      plan,
    };
  });
}
