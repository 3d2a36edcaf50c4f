import type { DeploymentService } from '../fleet/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { AGENT_API_VERSION, EnrollReply, EnrollRequest } from '../protocol/agent-api.js';
import { checkBootToken, type BootTokenVerifier } from './auth.js';

export interface EnrollRouteDeps {
  deployments: DeploymentService;
  /** Checks per-boot tokens; given when network boot is on, and then a boot token is required. */
  bootTokens?: BootTokenVerifier | undefined;
}

/** POST /v1/enroll: the board is named and gets the plan and token of a new deployment. */
export function registerEnrollRoutes(app: HttpServer, deps: EnrollRouteDeps): void {
  app.post('/v1/enroll', { schema: { body: EnrollRequest, response: { 200: EnrollReply } } }, async (req) => {
    const body = req.body;
    await checkBootToken(deps.bootTokens, body.bootToken, body.serial);
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
