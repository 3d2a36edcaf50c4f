import type { Db, DhcpLeasesTable } from '../../store/index.js';
import type { Lease, LeaseState } from './leases.js';

/** SQL for the DHCP lease table (migration 005-dhcp). */

function toLease(r: DhcpLeasesTable): Lease {
  return {
    ip: r.ip,
    clientKey: r.client_key,
    mac: r.mac,
    state: r.state as LeaseState,
    expiresAt: r.expires_at,
    serial8: r.serial8,
    hostname: r.hostname,
    updatedAt: r.updated_at,
  };
}

export async function listLeases(db: Db): Promise<Lease[]> {
  return (await db.selectFrom('dhcp_leases').selectAll().orderBy('ip').execute()).map(toLease);
}

/** Records `lease` as the current state of its address, replacing whoever held it before. */
export async function saveLease(db: Db, lease: Lease): Promise<void> {
  const row: DhcpLeasesTable = {
    ip: lease.ip,
    client_key: lease.clientKey,
    mac: lease.mac,
    state: lease.state,
    expires_at: lease.expiresAt,
    serial8: lease.serial8,
    hostname: lease.hostname,
    updated_at: lease.updatedAt,
  };
  await db
    .insertInto('dhcp_leases')
    .values(row)
    .onConflict((oc) => oc.column('ip').doUpdateSet({ ...row }))
    .execute();
}
