import type { Db } from '../store/index.js';

/**
 * Verified-chunk resume records: which chunks of which image a board wrote and read back
 * correctly. They outlive the deployment, so a rebooted board resumes instead of starting over.
 */

/** Records chunks as verified; repeats are ignored. */
export async function insertVerifiedChunks(
  db: Db,
  serial: string,
  imageId: number,
  indexes: readonly number[],
  now: string,
): Promise<void> {
  if (indexes.length === 0) return;
  await db
    .insertInto('verified_chunks')
    .values(indexes.map((chunk_index) => ({ serial, image_id: imageId, chunk_index, verified_at: now })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function listVerifiedChunks(db: Db, serial: string, imageId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('verified_chunks')
    .select('chunk_index')
    .where('serial', '=', serial)
    .where('image_id', '=', imageId)
    .orderBy('chunk_index')
    .execute();
  return rows.map((r) => r.chunk_index);
}

/**
 * Forgets what a board verified, except for the chunks of image `keepImageId` (null: keeps
 * nothing). What the card holds of another image is of no use to the image it is now to receive.
 */
export async function deleteVerifiedChunks(
  db: Db,
  serial: string,
  { keepImageId }: { keepImageId: number | null },
): Promise<void> {
  let q = db.deleteFrom('verified_chunks').where('serial', '=', serial);
  if (keepImageId !== null) q = q.where('image_id', '!=', keepImageId);
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
