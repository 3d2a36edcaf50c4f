import type { Db, ProductsTable } from '../store/index.js';
import type { Product } from '../protocol/fleet.js';
import type { ImagingSettings, VerifyMode } from '../protocol/imaging.js';
import { namingKind } from './hostname.js';

function toProduct(r: ProductsTable): Product {
  return {
    code: r.code,
    name: r.name,
    hostnamePattern: r.hostname_pattern,
    naming: namingKind(r.hostname_pattern),
    builtin: r.builtin === 1,
    createdAt: r.created_at,
    imaging: { delta: r.delta_reimage === 1, verify: r.verify_mode as VerifyMode },
  };
}

export async function findProduct(db: Db, code: string): Promise<Product | undefined> {
  const row = await db.selectFrom('products').selectAll().where('code', '=', code).executeTakeFirst();
  return row && toProduct(row);
}

export async function listProducts(db: Db): Promise<Product[]> {
  return (await db.selectFrom('products').selectAll().orderBy('code').execute()).map(toProduct);
}

export async function insertProduct(db: Db, row: ProductsTable): Promise<void> {
  await db.insertInto('products').values(row).execute();
}

export async function updateProductImaging(db: Db, code: string, imaging: ImagingSettings): Promise<void> {
  await db
    .updateTable('products')
    .set({ delta_reimage: imaging.delta ? 1 : 0, verify_mode: imaging.verify })
    .where('code', '=', code)
    .execute();
}

export async function deleteProduct(db: Db, code: string): Promise<void> {
  await db.deleteFrom('products').where('code', '=', code).execute();
}

/** Whether any pool, assignment, batch or image refers to the product. */
export async function isProductUsed(db: Db, code: string): Promise<boolean> {
  const uses = await Promise.all([
    db.selectFrom('pool_entries').select('id').where('product_code', '=', code).limit(1).executeTakeFirst(),
    db.selectFrom('assignments').select('id').where('product_code', '=', code).limit(1).executeTakeFirst(),
    db.selectFrom('batches').select('id').where('product_code', '=', code).limit(1).executeTakeFirst(),
    db.selectFrom('images').select('id').where('product_code', '=', code).limit(1).executeTakeFirst(),
  ]);
  return uses.some(Boolean);
}
