import type { Store } from '../../store/index.js';
import {
  chooseAddress,
  isHeld,
  judgeRequest,
  leasesOf,
  type Client,
  type Lease,
  type Pool,
  type RequestVerdict,
} from './leases.js';
import { listLeases, saveLease } from './leases.repo.js';

/**
 * Full mode's leases as use cases. The serving process owns the lease table: it loads it once,
 * decides on its copy (synchronously, so two packets can never be given one address) and answers
 * only after the change is committed, so leases survive restarts and a crash loses nothing that
 * was acknowledged. A commit that fails puts the copy back as it was.
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
  /** The serial last seen with this MAC (from option 97), for boards that stop sending it. */
  serialOfMac(mac: string): string | null;
}

export async function createLeaseService(o: {
  store: Store;
  pool: Pool;
  leaseSeconds: number;
  declineHoldSeconds: number;
}): Promise<LeaseService> {
  const { store, pool } = o;
  const table = new Map((await listLeases(store.db)).map((l) => [l.ip, l]));
  const later = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();

  /** Applies `changes` to the copy at once and commits them; on failure the copy is restored. */
  async function commit(changes: Lease[]): Promise<void> {
    if (changes.length === 0) return;
    const before = changes.map((c) => table.get(c.ip));
    for (const c of changes) table.set(c.ip, c);
    try {
      await store.transaction(async (tx) => {
        for (const c of changes) await saveLease(tx, c);
      });
    } catch (err) {
      changes.forEach((c, i) =>
        table.get(c.ip) === c ? (before[i] ? table.set(c.ip, before[i]) : table.delete(c.ip)) : undefined,
      );
      throw err;
    }
  }

  function leaseOf(client: LeaseClient, ip: string, state: Lease['state'], expiresAt: string, now: Date): Lease {
    const previous = table.get(ip);
    const same = previous?.clientKey === client.key;
    return {
      ip,
      clientKey: client.key,
      mac: client.mac,
      state,
      expiresAt,
      serial8: client.serial8 ?? (same ? previous.serial8 : null),
      hostname: client.hostname ?? (same ? previous.hostname : null),
      updatedAt: now.toISOString(),
    };
  }

  /** A client holds one address: whatever else it held is released. */
  function releaseOthers(client: LeaseClient, keep: string | null, now: Date, only?: Lease['state']): Lease[] {
    const at = now.toISOString();
    return leasesOf(table, client)
      .filter((l) => l.ip !== keep && l.state !== 'declined' && (!only || l.state === only) && isHeld(l, at))
      .map((l) => ({ ...l, state: 'released' as const, expiresAt: at, updatedAt: at }));
  }

  return {
    async offer(client, requested, now) {
      const at = now.toISOString();
      const ip = chooseAddress(pool, table, client, requested, at);
      if (ip === undefined) return undefined;
      const current = table.get(ip);
      const keepsBinding = current?.clientKey === client.key && current.state === 'bound' && isHeld(current, at);
      const held = keepsBinding
        ? { ...current, updatedAt: at }
        : leaseOf(client, ip, 'offered', later(now, OFFER_HOLD_SECONDS), now);
      await commit([held, ...releaseOthers(client, ip, now)]);
      return ip;
    },

    async request(client, ip, now) {
      const verdict = judgeRequest(pool, table, client, ip, now.toISOString());
      if (verdict === 'ack')
        await commit([
          leaseOf(client, ip, 'bound', later(now, o.leaseSeconds), now),
          ...releaseOthers(client, ip, now),
        ]);
      return verdict;
    },

    withdrawOffer: (client, now) => commit(releaseOthers(client, null, now, 'offered')),

    async release(client, ip, now) {
      const lease = table.get(ip);
      if (lease?.clientKey !== client.key || lease.state === 'declined') return false;
      const at = now.toISOString();
      await commit([{ ...lease, state: 'released', expiresAt: at, updatedAt: at }]);
      return true;
    },

    async decline(client, ip, now) {
      const lease = table.get(ip);
      if (lease?.clientKey !== client.key) return false;
      await commit([
        { ...lease, state: 'declined', expiresAt: later(now, o.declineHoldSeconds), updatedAt: now.toISOString() },
      ]);
      return true;
    },

    serialOfMac(mac) {
      let best: Lease | undefined;
      for (const l of table.values())
        if (l.mac === mac && l.serial8 !== null && (!best || l.updatedAt > best.updatedAt)) best = l;
      return best?.serial8 ?? null;
    },
  };
}
