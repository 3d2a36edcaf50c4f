import { createHash, randomBytes } from 'node:crypto';
import type { Deployment } from '../protocol/fleet.js';
import { isTerminal } from './deployment-state.js';
import { findDeployment } from './deployments.repo.js';
import { FleetError } from './errors.js';
import { countVerifiedChunks, deleteVerifiedChunks, findDeploymentByTokenHash, hasDeploymentToken, insertDeploymentToken, insertVerifiedChunks, listVerifiedChunks } from './sessions.repo.js';
import { unitOfWork, type FleetDeps } from './unit-of-work.js';

/**
 * A board's session with the device API: the secret that lets it speak for its deployment, and
 * the chunks it has written and verified (per board and image), which outlive the deployment so
 * a rebooted board resumes instead of starting over.
 *
 * Tokens are 256 random bits shown once; only their SHA-256 is stored. A hash without salt is
 * enough for a random secret of that size (nothing to guess), and it allows lookup by hash.
 */
export interface SessionService {
  /** Issues the token of a deployment (once) and forgets verified chunks of any other image. */
  open(deploymentId: number): Promise<string>;
  /** The deployment a token belongs to, or undefined for an unknown token. */
  authenticate(token: string): Promise<Deployment | undefined>;
  /** Whether the deployment was opened through the token API (the seed routes must not touch it). */
  hasToken(deploymentId: number): Promise<boolean>;
  /** Records chunks of the deployment's image as verified on the board; returns the count on record. */
  recordVerified(deployment: Deployment, chunkIndexes: readonly number[]): Promise<number>;
  verifiedChunks(serial: string, imageId: number): Promise<number[]>;
  countVerified(serial: string, imageId: number): Promise<number>;
  /** After a success the card boots and changes: nothing on it counts as verified any more. */
  forgetVerified(serial: string): Promise<void>;
}

export const TOKEN_BYTES = 32;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function createSessionService(deps: FleetDeps): SessionService {
  const { store } = deps;
  return {
    open: (deploymentId) =>
      unitOfWork(deps, async (tx, out) => {
        const deployment = await findDeployment(tx, deploymentId);
        if (!deployment) throw new FleetError('FLEET_DEPLOYMENT_UNKNOWN', `Deployment ${deploymentId} does not exist`, { deploymentId });
        if (isTerminal(deployment.status)) throw finished(deployment);
        const token = randomBytes(TOKEN_BYTES).toString('base64url');
        await insertDeploymentToken(tx, deploymentId, tokenHash(token), out.now);
        if (deployment.imageId !== null) await deleteVerifiedChunks(tx, deployment.serial, deployment.imageId);
        return token;
      }),

    authenticate: (token) => findDeploymentByTokenHash(store.db, tokenHash(token)),

    hasToken: (deploymentId) => hasDeploymentToken(store.db, deploymentId),

    recordVerified: (deployment, chunkIndexes) =>
      unitOfWork(deps, async (tx, out) => {
        if (deployment.imageId === null) throw new FleetError('FLEET_INPUT_INVALID', `Deployment ${deployment.id} has no image to verify chunks of`, { deploymentId: deployment.id });
        await insertVerifiedChunks(tx, deployment.serial, deployment.imageId, [...new Set(chunkIndexes)], out.now);
        return countVerifiedChunks(tx, deployment.serial, deployment.imageId);
      }),

    verifiedChunks: (serial, imageId) => listVerifiedChunks(store.db, serial, imageId),

    countVerified: (serial, imageId) => countVerifiedChunks(store.db, serial, imageId),

    forgetVerified: (serial) => unitOfWork(deps, (tx) => deleteVerifiedChunks(tx, serial)),
  };
}

function finished(d: Deployment): FleetError {
  return new FleetError('FLEET_DEPLOYMENT_FINISHED', `Deployment ${d.id} already ended (${d.status}); the board must enroll again to start over`, {
    deploymentId: d.id,
    status: d.status,
  });
}
