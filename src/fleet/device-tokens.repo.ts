import type { Db } from '../store/index.js';
import type { Deployment } from '../protocol/fleet.js';
import { toDeployment } from './deployments.repo.js';

/**
 * Device bearer tokens: the secret with which a board speaks for its deployment. Only their
 * SHA-256 is stored (see device-tokens.ts).
 */
export async function insertDeploymentToken(
  db: Db,
  deploymentId: number,
  tokenSha256: string,
  now: string,
): Promise<void> {
  await db
    .insertInto('deployment_tokens')
    .values({ deployment_id: deploymentId, token_sha256: tokenSha256, created_at: now })
    .execute();
}

/** The deployment a token hash belongs to. */
export async function findDeploymentByTokenHash(db: Db, tokenSha256: string): Promise<Deployment | undefined> {
  const row = await db
    .selectFrom('deployment_tokens')
    .innerJoin('deployments', 'deployments.id', 'deployment_tokens.deployment_id')
    .selectAll('deployments')
    .where('deployment_tokens.token_sha256', '=', tokenSha256)
    .executeTakeFirst();
  return row && toDeployment(row);
}

/** Whether the deployment was opened through device API v1 (the token-less seed routes must not touch it). */
export async function hasDeploymentToken(db: Db, deploymentId: number): Promise<boolean> {
  return (
    (await db
      .selectFrom('deployment_tokens')
      .select('deployment_id')
      .where('deployment_id', '=', deploymentId)
      .executeTakeFirst()) !== undefined
  );
}
