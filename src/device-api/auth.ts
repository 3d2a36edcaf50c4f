import type { FastifyRequest } from 'fastify';
import type { DeploymentService } from '../fleet/index.js';
import type { Deployment } from '../protocol/fleet.js';
import { DeviceApiError } from './errors.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

/**
 * The deployment a v1 request speaks for: its bearer token must be that deployment's. A token of
 * another deployment is refused (403), whatever else the request says.
 */
export async function authenticatedDeployment(
  req: FastifyRequest,
  deployments: DeploymentService,
  deploymentId: number,
): Promise<Deployment> {
  const header = req.headers.authorization;
  if (!header)
    throw new DeviceApiError(
      'DEVICE_TOKEN_MISSING',
      'This call needs the token enroll returned: Authorization: Bearer <token>',
      {},
    );
  const token = BEARER.exec(header)?.[1];
  const deployment = token ? await deployments.authenticate(token) : undefined;
  if (!deployment)
    throw new DeviceApiError('DEVICE_TOKEN_INVALID', 'The token is not valid; enroll again to get one', {});
  if (deployment.id !== deploymentId) {
    throw new DeviceApiError(
      'DEVICE_TOKEN_FORBIDDEN',
      `The token belongs to deployment ${deployment.id}, not ${deploymentId}`,
      { deploymentId },
    );
  }
  return deployment;
}

/** Checks a per-boot token from the kernel command line (netboot issues them). */
export interface BootTokenVerifier {
  verify(token: string, serial: string): Promise<boolean>;
}

/**
 * With network boot on, a board enrolls only with the per-boot token netboot gave it: a missing
 * token is refused like a wrong one, or anyone on the deployment LAN could enroll any serial.
 */
export async function checkBootToken(
  verifier: BootTokenVerifier | undefined,
  token: string | undefined,
  serial: string,
): Promise<void> {
  if (!verifier) return;
  if (token === undefined) {
    throw new DeviceApiError(
      'DEVICE_BOOT_TOKEN_MISSING',
      'Network boot is on, so enrolling needs the boot token from the kernel command line (rpi_deploy.token=…); netboot the board',
      {},
    );
  }
  if (!(await verifier.verify(token, serial))) {
    throw new DeviceApiError(
      'DEVICE_BOOT_TOKEN_INVALID',
      'The boot token is not valid for this board; power-cycle it to netboot again',
      {},
    );
  }
}
