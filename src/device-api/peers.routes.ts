import Type from 'typebox';
import type { DeploymentService } from '../fleet/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { PeerJoinReply, PeerJoinRequest } from '../protocol/peers.js';
import { authenticatedDeployment } from './auth.js';
import type { SwarmTracker } from './swarm.js';

const DeploymentParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export interface PeerRouteDeps {
  deployments: DeploymentService;
  /** The tracker; undefined when fleet mode is off (`device.peers: false`): every board then fetches from the server. */
  swarm: SwarmTracker | undefined;
}

/** The tracker's one route: a board of an open deployment joins its image's swarm and learns its parent. */
export function registerPeerRoutes(app: HttpServer, deps: PeerRouteDeps): void {
  app.post(
    '/v1/deployments/:id/peer',
    { schema: { params: DeploymentParams, body: PeerJoinRequest, response: { 200: PeerJoinReply } } },
    async (req) => {
      await authenticatedDeployment(req, deps.deployments, req.params.id);
      const { imageId } = await deps.deployments.imageOf(req.params.id);
      if (!deps.swarm) return { enabled: false as const };
      // The address the board's request came from is the one other boards reach it at (one LAN, no NAT).
      const host = req.socket.remoteAddress ?? '';
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${req.body.port}`;
      return { enabled: true as const, ...deps.swarm.join(imageId, req.params.id, url, req.body.failedParent) };
    },
  );
}
