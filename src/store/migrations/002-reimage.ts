import type { Kysely } from 'kysely';
import type { Migration } from './types.js';

/** An operator's request to image a board again, which reopens network boot for it. */
export const reimage: Migration = {
  id: '002-reimage',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('devices').addColumn('reimage_requested_at', 'text').execute();
  },
};
