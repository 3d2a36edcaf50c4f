import { sql, type Kysely } from 'kysely';
import type { Migration } from './types.js';

/**
 * Image records now describe images held in the chunk store, with a manifest beside the chunks.
 * Records of the earlier kind only named a file left in place and held no bytes; they cannot be
 * turned into stored images, so they go and the operator imports the files again.
 */
export const imagesStore: Migration = {
  id: '003-images',
  async up(db: Kysely<unknown>) {
    await db.schema.dropTable('images').execute();
    await db.schema
      .createTable('images')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('product_code', 'text', (c) => c.notNull().references('products.code'))
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull().unique())
      .addColumn('size_bytes', 'integer', (c) => c.notNull())
      .addColumn('chunk_count', 'integer', (c) => c.notNull())
      .addColumn('stored_bytes', 'integer', (c) => c.notNull())
      .addColumn('used_bytes', 'integer', (c) => c.notNull())
      .addColumn('os_generation', 'text', (c) => c.notNull())
      .addColumn('manifest_file', 'text', (c) => c.notNull())
      .addColumn('source_name', 'text', (c) => c.notNull())
      .addColumn('source_format', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('notes', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('images_product_version', ['product_code', 'version'])
      .execute();
    await db.schema
      .createIndex('images_one_active_per_product')
      .on('images')
      .column('product_code')
      .unique()
      .where(sql.ref('active'), '=', 1)
      .execute();
  },
};
