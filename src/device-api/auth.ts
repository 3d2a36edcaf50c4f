import type { FastifyRequest } from 'fastify';
import type { DeploymentService } from '../fleet/index.js';
import type { CaptureService } from '../images/index.js';
import type { Capture } from '../protocol/capture.js';
import type { Deployment } from '../protocol/fleet.js';
import { DeviceApiError } from './errors.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

/** What enroll handed a token out for: a deployment, or a capture. */
interface TokenHolder<T extends { id: number }> {
  kind: 'deployment' | 'capture';
  authenticate(token: string): Promise<T | undefined>;
  /** The answer to a token that is not (or no longer) valid: what to do about it. */
  invalidMessage: string;
}

/**
 * The deployment or capture a v1 request speaks for: its bearer token must be that one's. A token
 * of another is refused (403), whatever else the request says.
 */
async function authenticatedHolder<T extends { id: number }>(
  req: FastifyRequest,
  holder: TokenHolder<T>,
  id: number,
): Promise<T> {
  const header = req.headers.authorization;
  if (!header)
    throw new DeviceApiError(
      'DEVICE_TOKEN_MISSING',
      'This call needs the token enroll returned: Authorization: Bearer <token>',
      {},
    );
  const token = BEARER.exec(header)?.[1];
  const found = token ? await holder.authenticate(token) : undefined;
  if (!found) throw new DeviceApiError('DEVICE_TOKEN_INVALID', holder.invalidMessage, {});
  if (found.id !== id) {
    throw new DeviceApiError(
      'DEVICE_TOKEN_FORBIDDEN',
      `The token belongs to ${holder.kind} ${found.id}, not ${id}`,
      holder.kind === 'deployment' ? { deploymentId: id } : { captureId: id },
    );
  }
  return found;
}

/** The deployment a v1 deployment call speaks for (see authenticatedHolder). */
export function authenticatedDeployment(
  req: FastifyRequest,
  deployments: DeploymentService,
  deploymentId: number,
): Promise<Deployment> {
  return authenticatedHolder(
    req,
    {
      kind: 'deployment',
      authenticate: (t) => deployments.authenticate(t),
      invalidMessage: 'The token is not valid; enroll again to get one',
    },
    deploymentId,
  );
}

/** The capture a v1 capture call speaks for (see authenticatedHolder). */
export function authenticatedCapture(
  req: FastifyRequest,
  captures: CaptureService,
  captureId: number,
): Promise<Capture> {
  return authenticatedHolder(
    req,
    {
      kind: 'capture',
      authenticate: (t) => captures.authenticate(t),
      invalidMessage: 'The token is not valid (the capture ended or was cancelled); enroll again to get one',
    },
    captureId,
  );
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
