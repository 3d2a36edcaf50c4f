import type { Db } from '../store/index.js';
import type { Deployment } from '../protocol/fleet.js';
import { toDeployment } from './deployments.repo.js';

export async function insertDeploymentToken(db: Db, deploymentId: number, tokenSha256: string, now: string): Promise<void> {
  await db.insertInto('deployment_tokens').values({ deployment_id: deploymentId, token_sha256: tokenSha256, created_at: now }).execute();
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

export async function hasDeploymentToken(db: Db, deploymentId: number): Promise<boolean> {
  return (await db.selectFrom('deployment_tokens').select('deployment_id').where('deployment_id', '=', deploymentId).executeTakeFirst()) !== undefined;
}

/** Records chunks as verified; repeats are ignored. */
export async function insertVerifiedChunks(db: Db, serial: string, imageId: number, indexes: readonly number[], now: string): Promise<void> {
  if (indexes.length === 0) return;
  await db
    .insertInto('verified_chunks')
    .values(indexes.map((chunk_index) => ({ serial, image_id: imageId, chunk_index, verified_at: now })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function listVerifiedChunks(db: Db, serial: string, imageId: number): Promise<number[]> {
  const rows = await db.selectFrom('verified_chunks').select('chunk_index').where('serial', '=', serial).where('image_id', '=', imageId).orderBy('chunk_index').execute();
  return rows.map((r) => r.chunk_index);
}

/** Forgets what a board verified: for every image but `keepImageId` (undefined: all of them). */
export async function deleteVerifiedChunks(db: Db, serial: string, keepImageId?: number): Promise<void> {
  let q = db.deleteFrom('verified_chunks').where('serial', '=', serial);
  if (keepImageId !== undefined) q = q.where('image_id', '!=', keepImageId);
  await q.execute();
}

export async function countVerifiedChunks(db: Db, serial: string, imageId: number): Promise<number> {
  const r = await db
    .selectFrom('verified_chunks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('serial', '=', serial)
    .where('image_id', '=', imageId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
