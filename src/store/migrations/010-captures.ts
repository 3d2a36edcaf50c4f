import { sql, type Kysely } from 'kysely';
import type { Migration } from './types.js';

/**
 * Capture requests (issue 14): a board an operator marked, captured at its next enroll into a new
 * image version. Only a SHA-256 of the board's capture token is kept. At most one request per
 * board is open (pending, capturing or assembling) at a time.
 */
export const captures: Migration = {
  id: '010-captures',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('captures')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('serial', 'text', (c) => c.notNull())
      .addColumn('product_code', 'text', (c) => c.notNull().references('products.code'))
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('notes', 'text')
      .addColumn('keep', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('pending', 'capturing', 'assembling', 'succeeded', 'failed', 'cancelled')`),
      )
      .addColumn('token_sha256', 'text', (c) => c.unique())
      .addColumn('bytes_received', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('bytes_total', 'integer')
      .addColumn('image_id', 'integer', (c) => c.references('images.id').onDelete('set null'))
      .addColumn('error', 'text')
      .addColumn('sanitise_report', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await sql`create unique index captures_open_serial on captures (serial)
      where status in ('pending', 'capturing', 'assembling')`.execute(db);
  },
};
