import { sql, type Kysely } from 'kysely';
import type { Migration } from './types.js';

/**
 * What the device API v1 needs to remember: each deployment's token (hashed), which chunks a
 * board already wrote and verified for an image (so a rebooted board resumes), and the first-boot
 * settings of products and venues.
 */
export const deviceApi: Migration = {
  id: '004-device-api',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('deployment_tokens')
      .addColumn('deployment_id', 'integer', (c) => c.primaryKey().references('deployments.id').onDelete('cascade'))
      .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('verified_chunks')
      .addColumn('serial', 'text', (c) => c.notNull().references('devices.serial').onDelete('cascade'))
      .addColumn('image_id', 'integer', (c) => c.notNull().references('images.id').onDelete('cascade'))
      .addColumn('chunk_index', 'integer', (c) => c.notNull().check(sql`chunk_index >= 0`))
      .addColumn('verified_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('verified_chunks_pk', ['serial', 'image_id', 'chunk_index'])
      .execute();

    await db.schema
      .createTable('firstboot_settings')
      .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('product', 'venue')`))
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('firstboot_settings_pk', ['scope', 'code'])
      .execute();
  },
};
