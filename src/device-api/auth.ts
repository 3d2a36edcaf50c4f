import type { FastifyRequest } from 'fastify';
import type { SessionService } from '../fleet/index.js';
import type { Deployment } from '../protocol/fleet.js';
import { DeviceApiError } from './errors.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

/**
 * The deployment a v1 request speaks for: its bearer token must be that deployment's. A token of
 * another deployment is refused (403), whatever else the request says.
 */
export async function authenticatedDeployment(req: FastifyRequest, sessions: SessionService, deploymentId: number): Promise<Deployment> {
  const header = req.headers.authorization;
  if (!header) throw new DeviceApiError('DEVICE_TOKEN_MISSING', 'This call needs the token enroll returned: Authorization: Bearer <token>', {});
  const token = BEARER.exec(header)?.[1];
  const deployment = token ? await sessions.authenticate(token) : undefined;
  if (!deployment) throw new DeviceApiError('DEVICE_TOKEN_INVALID', 'The token is not valid; enroll again to get one', {});
  if (deployment.id !== deploymentId) {
    throw new DeviceApiError('DEVICE_TOKEN_FORBIDDEN', `The token belongs to deployment ${deployment.id}, not ${deploymentId}`, { deploymentId });
  }
  return deployment;
}

/** Checks a per-boot token from the kernel command line (netboot issues them). */
export interface BootTokenVerifier {
  verify(token: string, serial: string): Promise<boolean>;
}
