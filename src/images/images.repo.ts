import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db, ImagesTable } from '../store/index.js';
import type { Image } from '../protocol/images.js';

function toImage(r: Selectable<ImagesTable>): Image {
  return {
    id: r.id,
    product: r.product_code,
    version: r.version,
    sizeBytes: r.size_bytes,
    sha256: r.sha256,
    chunkCount: r.chunk_count,
    storedBytes: r.stored_bytes,
    usedBytes: r.used_bytes,
    osGeneration: r.os_generation as Image['osGeneration'],
    sourceName: r.source_name,
    sourceFormat: r.source_format as Image['sourceFormat'],
    active: r.active === 1,
    notes: r.notes,
    createdAt: r.created_at,
  };
}

export async function insertImage(db: Db, row: Insertable<ImagesTable>): Promise<Image> {
  return toImage(await db.insertInto('images').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function findImage(db: Db, id: number): Promise<Image | undefined> {
  const row = await db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toImage(row);
}

/** The manifest file of an image, relative to the store root. */
export async function findManifestFile(db: Db, id: number): Promise<string | undefined> {
  return (await db.selectFrom('images').select('manifest_file').where('id', '=', id).executeTakeFirst())?.manifest_file;
}

/** Every registered manifest file: what a store sweep must keep. */
export async function listManifestFiles(db: Db): Promise<string[]> {
  return (await db.selectFrom('images').select('manifest_file').execute()).map((r) => r.manifest_file);
}

export async function findImageBySha(db: Db, sha256: string): Promise<Image | undefined> {
  const row = await db.selectFrom('images').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  return row && toImage(row);
}

export async function findImageByVersion(db: Db, product: string, version: string): Promise<Image | undefined> {
  const row = await db
    .selectFrom('images')
    .selectAll()
    .where('product_code', '=', product)
    .where('version', '=', version)
    .executeTakeFirst();
  return row && toImage(row);
}

export async function findActiveImage(db: Db, product: string): Promise<Image | undefined> {
  // A literal 1, not a parameter: only then can SQLite use the partial index on active images.
  const row = await db
    .selectFrom('images')
    .selectAll()
    .where('product_code', '=', product)
    .where('active', '=', sql.lit(1))
    .executeTakeFirst();
  return row && toImage(row);
}

export async function listImages(db: Db, product?: string): Promise<Image[]> {
  let q = db.selectFrom('images').selectAll();
  if (product) q = q.where('product_code', '=', product);
  return (await q.orderBy('product_code').orderBy('id', 'desc').execute()).map(toImage);
}

/** Makes `id` the only active image of its product. */
export async function setActiveImage(db: Db, product: string, id: number | null): Promise<void> {
  await db
    .updateTable('images')
    .set({ active: 0 })
    .where('product_code', '=', product)
    .where('active', '=', 1)
    .execute();
  if (id !== null) await db.updateTable('images').set({ active: 1 }).where('id', '=', id).execute();
}

export async function deleteImage(db: Db, id: number): Promise<void> {
  await db.deleteFrom('images').where('id', '=', id).execute();
}
