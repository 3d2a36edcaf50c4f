import { intToIp, ipToInt } from '../../lib/ipv4.js';

/**
 * Address allocation for full mode, pure: given the lease table and a client, which address to
 * offer and whether a REQUEST may be acknowledged (RFC 2131 §4.3.1, §4.3.2). The lease table has
 * one row per address ever handed out, keyed by address; the service persists what these
 * functions decide.
 */

/** Every lease by its address. */
export type LeaseTable = ReadonlyMap<string, Lease>;

export type LeaseState = 'offered' | 'bound' | 'released' | 'declined';

export interface Lease {
  ip: string;
  /** Option 61 when the client sent one, else its MAC (RFC 2132 §9.14). */
  clientKey: string;
  mac: string;
  state: LeaseState;
  /** ISO time: end of the lease, of the offer's hold, or of a declined address's quarantine. */
  expiresAt: string;
  serial8: string | null;
  hostname: string | null;
  updatedAt: string;
}

/** The addresses full mode may hand out. */
export interface Pool {
  start: string;
  end: string;
  /** The server's own address, never handed out. */
  serverAddress: string;
  /** MAC (lowercase, colons) → fixed address. */
  reservations: ReadonlyMap<string, string>;
}

export interface Client {
  key: string;
  mac: string;
}

/** An offered, bound or declined address that has not run out blocks everyone else. */
export function isHeld(lease: Lease, now: string): boolean {
  return lease.state !== 'released' && lease.expiresAt > now;
}

function reservedFor(pool: Pool, ip: string): string | undefined {
  for (const [mac, reserved] of pool.reservations) if (reserved === ip) return mac;
  return undefined;
}

/** May `client` have `ip`: inside the range or reserved for it, not ours, not held or reserved by another. */
export function isAvailableFor(
  pool: Pool,
  byIp: ReadonlyMap<string, Lease>,
  client: Client,
  ip: string,
  now: string,
): boolean {
  if (ip === pool.serverAddress) return false;
  const owner = reservedFor(pool, ip);
  if (owner !== undefined) {
    if (owner !== client.mac) return false;
  } else if (!inRange(pool, ip)) return false;
  const lease = byIp.get(ip);
  if (!lease || !isHeld(lease, now)) return true;
  // A declined address is quarantined for everyone, the client that declined it included.
  return lease.state !== 'declined' && lease.clientKey === client.key;
}

/** The client's leases, most recently changed first. */
export function leasesOf(byIp: LeaseTable, client: Client): Lease[] {
  return [...byIp.values()]
    .filter((l) => l.clientKey === client.key)
    .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
}

export function inRange(pool: Pool, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= ipToInt(pool.start) && n <= ipToInt(pool.end);
}

/**
 * The address to offer, in RFC 2131 §4.3.1 order: the client's reservation, its current binding,
 * the address it asks for (option 50), its previous binding, then a fresh address: first one never
 * handed out, then the one that has been free the longest. Undefined when the pool is exhausted.
 */
export function chooseAddress(
  pool: Pool,
  byIp: LeaseTable,
  client: Client,
  requested: string | undefined,
  now: string,
): string | undefined {
  const reserved = pool.reservations.get(client.mac);
  if (reserved !== undefined) return isAvailableFor(pool, byIp, client, reserved, now) ? reserved : undefined;

  const mine = leasesOf(byIp, client);
  const current = mine.find((l) => isHeld(l, now) && l.state !== 'declined');
  if (current && isAvailableFor(pool, byIp, client, current.ip, now)) return current.ip;
  if (requested !== undefined && isAvailableFor(pool, byIp, client, requested, now)) return requested;
  const previous = mine.find((l) => l.state !== 'declined' && isAvailableFor(pool, byIp, client, l.ip, now));
  if (previous) return previous.ip;

  const end = ipToInt(pool.end);
  for (let n = ipToInt(pool.start); n <= end; n++) {
    const ip = intToIp(n);
    if (!byIp.has(ip) && isAvailableFor(pool, byIp, client, ip, now)) return ip;
  }
  const reusable = [...byIp.values()]
    .filter((l) => inRange(pool, l.ip) && isAvailableFor(pool, byIp, client, l.ip, now))
    .sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : 1));
  return reusable[0]?.ip;
}

/** What to answer a REQUEST for `ip` (RFC 2131 §4.3.2). */
export type RequestVerdict = 'ack' | 'nak' | 'unknown';

/**
 * `ack` when the client may have `ip`; `nak` when the address is wrong for it (another client's,
 * outside the pool); `unknown` when we have no record of the client and the address is free: an
 * INIT-REBOOT from a client of another server, which RFC 2131 §4.3.2 says to leave unanswered.
 */
export function judgeRequest(pool: Pool, byIp: LeaseTable, client: Client, ip: string, now: string): RequestVerdict {
  if (!isAvailableFor(pool, byIp, client, ip, now)) return 'nak';
  const lease = byIp.get(ip);
  if (lease?.clientKey === client.key && lease.state !== 'declined') return 'ack';
  if (pool.reservations.get(client.mac) === ip) return 'ack';
  return 'unknown';
}
