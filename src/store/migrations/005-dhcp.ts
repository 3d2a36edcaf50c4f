import { sql, type Kysely } from 'kysely';
import type { Migration } from './types.js';

/**
 * DHCP leases of full mode: one row per address ever handed out, so leases survive a restart and
 * a returning client gets its previous address. The primary key on `ip` makes it impossible to
 * record one address for two clients.
 */
export const dhcpLeases: Migration = {
  id: '005-dhcp',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('dhcp_leases')
      .addColumn('ip', 'text', (c) => c.primaryKey())
      .addColumn('client_key', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('offered', 'bound', 'released', 'declined')`))
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('serial8', 'text')
      .addColumn('hostname', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('dhcp_leases_client').on('dhcp_leases').column('client_key').execute();
    await db.schema.createIndex('dhcp_leases_mac').on('dhcp_leases').column('mac').execute();
  },
};
