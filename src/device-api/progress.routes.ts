import Type from 'typebox';
import type { DeploymentService } from '../fleet/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { ProgressReply, ProgressReport, ResultReply, ResultReport } from '../protocol/agent-api.js';
import { authenticatedDeployment } from './auth.js';
import type { SwarmTracker } from './swarm.js';

const DeploymentParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** Progress and result of a deployment; the rules (what counts as success) are the deployment service's. */
export function registerProgressRoutes(
  app: HttpServer,
  deps: { deployments: DeploymentService; swarm?: SwarmTracker | undefined },
): void {
  const { deployments } = deps;

  app.post(
    '/v1/deployments/:id/progress',
    { schema: { params: DeploymentParams, body: ProgressReport, response: { 200: ProgressReply } } },
    async (req) => {
      await authenticatedDeployment(req, deployments, req.params.id);
      return deployments.reportProgress(req.params.id, req.body);
    },
  );

  app.post(
    '/v1/deployments/:id/result',
    { schema: { params: DeploymentParams, body: ResultReport, response: { 200: ResultReply } } },
    async (req) => {
      await authenticatedDeployment(req, deployments, req.params.id);
      // A finished board stops serving its peers: boards that re-join are not given it.
      deps.swarm?.leave(req.params.id);
      return deployments.reportResult(req.params.id, req.body);
    },
  );
}
