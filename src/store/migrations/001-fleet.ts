import { sql, type Kysely } from 'kysely';
import type { Migration } from './types.js';

/** Venues, products with their naming rules, pools, batches, devices, assignments, deployments, history, image records. */
export const fleetInitial: Migration = {
  id: '001-fleet',
  async up(db: Kysely<unknown>, now: string) {
    await db.schema
      .createTable('venues')
      .addColumn('code', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('location', 'text')
      .addColumn('contact', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('products')
      .addColumn('code', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('hostname_pattern', 'text', (c) => c.notNull())
      .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('pool_entries')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('venue_code', 'text', (c) => c.notNull().references('venues.code').onDelete('cascade'))
      .addColumn('product_code', 'text', (c) => c.notNull().references('products.code'))
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('hostname', 'text', (c) => c.notNull().unique())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('available', 'assigned', 'retired')`))
      .addColumn('serial', 'text')
      .addColumn('assigned_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('pool_entries_venue_product_number', ['venue_code', 'product_code', 'number'])
      .execute();
    await db.schema
      .createIndex('pool_entries_claim')
      .on('pool_entries')
      .columns(['venue_code', 'product_code', 'status', 'number'])
      .execute();

    await db.schema
      .createTable('batches')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('venue_code', 'text', (c) => c.notNull())
      .addColumn('product_code', 'text', (c) => c.notNull().references('products.code'))
      .addColumn('name', 'text')
      .addColumn('expected_count', 'integer', (c) => c.notNull().check(sql`expected_count > 0`))
      .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('pending', 'active', 'paused', 'completed', 'cancelled')`),
      )
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('activated_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('batches_pick')
      .on('batches')
      .columns(['status', 'venue_code', 'product_code'])
      .execute();

    await db.schema
      .createTable('devices')
      .addColumn('serial', 'text', (c) => c.primaryKey())
      .addColumn('serial8', 'text', (c) => c.notNull())
      .addColumn('macs', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('model', 'text')
      .addColumn('first_seen_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('devices_serial8').on('devices').column('serial8').execute();

    // History is kept forever, so assignments and deployments name venues by code without a
    // foreign key: deleting a venue must not delete what happened there.
    await db.schema
      .createTable('assignments')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('serial', 'text', (c) => c.notNull())
      .addColumn('venue_code', 'text', (c) => c.notNull())
      .addColumn('product_code', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('pool_entry_id', 'integer')
      .addColumn('batch_id', 'integer')
      .addColumn('assigned_at', 'text', (c) => c.notNull())
      .addColumn('released_at', 'text')
      .addColumn('release_reason', 'text')
      .execute();
    // The database itself guarantees that no two boards hold one name, and one board holds one
    // name per venue and product, whatever the code above it does.
    await db.schema
      .createIndex('assignments_active_hostname')
      .on('assignments')
      .column('hostname')
      .unique()
      .where(sql.ref('released_at'), 'is', null)
      .execute();
    await db.schema
      .createIndex('assignments_active_serial')
      .on('assignments')
      .columns(['serial', 'venue_code', 'product_code'])
      .unique()
      .where(sql.ref('released_at'), 'is', null)
      .execute();
    await db.schema.createIndex('assignments_batch').on('assignments').column('batch_id').execute();

    await db.schema
      .createTable('deployments')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('serial', 'text', (c) => c.notNull())
      .addColumn('assignment_id', 'integer', (c) => c.notNull().references('assignments.id'))
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('venue_code', 'text', (c) => c.notNull())
      .addColumn('product_code', 'text', (c) => c.notNull())
      .addColumn('batch_id', 'integer')
      .addColumn('image_id', 'integer')
      .addColumn('status', 'text', (c) =>
        c
          .notNull()
          .check(
            sql`status in ('enrolled', 'downloading', 'writing', 'verifying', 'customizing', 'success', 'failed')`,
          ),
      )
      .addColumn('error', 'text')
      .addColumn('ip', 'text')
      .addColumn('mac', 'text')
      .addColumn('enrolled_at', 'text', (c) => c.notNull())
      .addColumn('downloading_at', 'text')
      .addColumn('writing_at', 'text')
      .addColumn('verifying_at', 'text')
      .addColumn('customizing_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('deployments_serial').on('deployments').column('serial').execute();
    await db.schema.createIndex('deployments_status').on('deployments').column('status').execute();
    await db.schema
      .createIndex('deployments_venue_time')
      .on('deployments')
      .columns(['venue_code', 'enrolled_at'])
      .execute();
    await db.schema.createIndex('deployments_batch').on('deployments').column('batch_id').execute();

    await db.schema
      .createTable('history')
      .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'integer')
      .addColumn('serial', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('history_deployment').on('history').column('deployment_id').execute();
    await db.schema.createIndex('history_serial').on('history').column('serial').execute();

    await db.schema
      .createTable('images')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('product_code', 'text', (c) => c.notNull().references('products.code'))
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('file_ref', 'text', (c) => c.notNull())
      .addColumn('size_bytes', 'integer', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull().unique())
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

    await db
      .insertInto('products' as never)
      .values([
        {
          code: 'KXP2',
          name: 'KartXPro recorder',
          hostname_pattern: 'KXP2-{venue}-{number:3}',
          builtin: 1,
          created_at: now,
        },
        {
          code: 'RXP2',
          name: 'RaceXPro recorder',
          hostname_pattern: 'RXP2-{venue}-{serial}',
          builtin: 1,
          created_at: now,
        },
      ] as never)
      .execute();
  },
};
