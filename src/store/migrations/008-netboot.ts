import type { Kysely } from 'kysely';
import type { Migration } from './types.js';

/**
 * Per-boot tokens that network boot puts on a board's kernel command line. Only a SHA-256 of each
 * token is kept: the database alone does not let anyone act as a board.
 */
export const netbootTokens: Migration = {
  id: '008-netboot',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('boot_tokens')
      .addColumn('token_sha256', 'text', (c) => c.primaryKey())
      .addColumn('serial8', 'text', (c) => c.notNull())
      .addColumn('issued_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('boot_tokens_expires').on('boot_tokens').column('expires_at').execute();
  },
};
