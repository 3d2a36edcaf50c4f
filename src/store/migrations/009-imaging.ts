import type { Kysely } from 'kysely';
import type { Migration } from './types.js';

/**
 * Per-product imaging settings (delta re-image on or off, full or sampled read-back), and on each
 * deployment the settings it was planned with and what its write did (chunks reused, written, read).
 */
export const imagingSettings: Migration = {
  id: '009-imaging',
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('products')
      .addColumn('delta_reimage', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema
      .alterTable('products')
      .addColumn('verify_mode', 'text', (c) => c.notNull().defaultTo('full'))
      .execute();
    await db.schema.alterTable('deployments').addColumn('imaging', 'text').execute();
    await db.schema.alterTable('deployments').addColumn('write_stats', 'text').execute();
  },
};
