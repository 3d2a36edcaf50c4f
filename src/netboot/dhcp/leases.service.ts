import type { Store } from '../../store/index.js';
import { chooseAddress, isHeld, judgeRequest, type Client, type Lease, type Pool, type RequestVerdict } from './leases.js';
import { findLeasesOfMac, listLeases, saveLease } from './leases.repo.js';

/**
 * Full mode's leases as use cases, each one database transaction: the decision (leases.ts) and
 * its record commit together, so no address is given to two clients, also under a burst (the
 * store runs transactions one after another) and across restarts (the table is the only state).
 */

/** How long an offered address is kept for the client that was offered it. */
export const OFFER_HOLD_SECONDS = 60;

export interface LeaseClient extends Client {
  serial8: string | null;
  hostname: string | null;
}

export interface LeaseService {
  /** Picks and holds an address for a DISCOVER; undefined when the pool is exhausted. */
  offer(client: LeaseClient, requested: string | undefined, now: Date): Promise<string | undefined>;
  /** Judges a REQUEST for `ip`; an `ack` binds the lease for `leaseSeconds`. */
  request(client: LeaseClient, ip: string, now: Date): Promise<RequestVerdict>;
  /** The client took another server's offer (SELECTING with another server id): free ours. */
  withdrawOffer(client: LeaseClient, now: Date): Promise<void>;
  release(client: LeaseClient, ip: string, now: Date): Promise<boolean>;
  /** The client found `ip` in use: keep it out of the pool for `declineHoldSeconds`. */
  decline(client: LeaseClient, ip: string, now: Date): Promise<boolean>;
  list(): Promise<Lease[]>;
  /** The serial last seen with this MAC (from option 97), for boards that stop sending it. */
  serialOfMac(mac: string): Promise<string | null>;
}

export function createLeaseService(o: { store: Store; pool: Pool; leaseSeconds: number; declineHoldSeconds: number }): LeaseService {
  const { store, pool } = o;
  const later = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
  const leaseOf = (client: LeaseClient, ip: string, state: Lease['state'], expiresAt: string, now: Date, previous?: Lease): Lease => ({
    ip,
    clientKey: client.key,
    mac: client.mac,
    state,
    expiresAt,
    serial8: client.serial8 ?? previous?.serial8 ?? null,
    hostname: client.hostname ?? previous?.hostname ?? null,
    updatedAt: now.toISOString(),
  });

  /** A client holds one address: whatever else it held is released. */
  async function releaseOthers(tx: Parameters<typeof saveLease>[0], leases: Lease[], client: LeaseClient, keep: string, now: Date) {
    const at = now.toISOString();
    for (const l of leases) {
      if (l.clientKey === client.key && l.ip !== keep && l.state !== 'declined' && isHeld(l, at)) await saveLease(tx, { ...l, state: 'released', expiresAt: at, updatedAt: at });
    }
  }

  return {
    offer: (client, requested, now) =>
      store.transaction(async (tx) => {
        const at = now.toISOString();
        const leases = await listLeases(tx);
        const ip = chooseAddress(pool, leases, client, requested, at);
        if (ip === undefined) return undefined;
        const current = leases.find((l) => l.ip === ip);
        const keepsBinding = current?.clientKey === client.key && current.state === 'bound' && isHeld(current, at);
        const hold = later(now, OFFER_HOLD_SECONDS);
        await saveLease(tx, keepsBinding ? { ...current, updatedAt: at } : leaseOf(client, ip, 'offered', hold, now, current));
        await releaseOthers(tx, leases, client, ip, now);
        return ip;
      }),

    request: (client, ip, now) =>
      store.transaction(async (tx) => {
        const leases = await listLeases(tx);
        const verdict = judgeRequest(pool, leases, client, ip, now.toISOString());
        if (verdict === 'ack') {
          await saveLease(tx, leaseOf(client, ip, 'bound', later(now, o.leaseSeconds), now, leases.find((l) => l.ip === ip)));
          await releaseOthers(tx, leases, client, ip, now);
        }
        return verdict;
      }),

    withdrawOffer: (client, now) =>
      store.transaction(async (tx) => {
        const at = now.toISOString();
        for (const l of await listLeases(tx)) {
          if (l.clientKey === client.key && l.state === 'offered' && isHeld(l, at)) await saveLease(tx, { ...l, state: 'released', expiresAt: at, updatedAt: at });
        }
      }),

    release: (client, ip, now) =>
      store.transaction(async (tx) => {
        const lease = (await listLeases(tx)).find((l) => l.ip === ip);
        if (lease?.clientKey !== client.key || lease.state === 'declined') return false;
        const at = now.toISOString();
        await saveLease(tx, { ...lease, state: 'released', expiresAt: at, updatedAt: at });
        return true;
      }),

    decline: (client, ip, now) =>
      store.transaction(async (tx) => {
        const lease = (await listLeases(tx)).find((l) => l.ip === ip);
        if (lease?.clientKey !== client.key) return false;
        await saveLease(tx, { ...lease, state: 'declined', expiresAt: later(now, o.declineHoldSeconds), updatedAt: now.toISOString() });
        return true;
      }),

    list: () => listLeases(store.db),

    async serialOfMac(mac) {
      return (await findLeasesOfMac(store.db, mac)).find((l) => l.serial8 !== null)?.serial8 ?? null;
    },
  };
}
