import type { Insertable, Selectable } from 'kysely';
import type { Db, PoolEntriesTable } from '../store/index.js';
import type { PoolEntry, PoolStats, PoolStatus } from '../protocol/fleet.js';

type Row = Selectable<PoolEntriesTable>;

function toEntry(r: Row): PoolEntry {
  return {
    id: r.id,
    venue: r.venue_code,
    product: r.product_code,
    number: r.number,
    hostname: r.hostname,
    status: r.status as PoolStatus,
    serial: r.serial,
    assignedAt: r.assigned_at,
    updatedAt: r.updated_at,
  };
}

export async function poolNumbers(db: Db, venue: string, product: string): Promise<Set<number>> {
  const rows = await db
    .selectFrom('pool_entries')
    .select('number')
    .where('venue_code', '=', venue)
    .where('product_code', '=', product)
    .execute();
  return new Set(rows.map((r) => r.number));
}

/** Hostnames already used by any pool entry, among `hostnames`. */
export async function takenHostnames(db: Db, hostnames: string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  for (let i = 0; i < hostnames.length; i += 500) {
    const rows = await db
      .selectFrom('pool_entries')
      .select('hostname')
      .where('hostname', 'in', hostnames.slice(i, i + 500))
      .execute();
    for (const r of rows) taken.add(r.hostname);
  }
  return taken;
}

export async function insertPoolEntries(db: Db, rows: Insertable<PoolEntriesTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('pool_entries')
      .values(rows.slice(i, i + 500))
      .execute();
}

/** The lowest available number, marked assigned to `serial`; undefined when the pool is empty. */
export async function claimLowestAvailable(
  db: Db,
  venue: string,
  product: string,
  serial: string,
  now: string,
): Promise<PoolEntry | undefined> {
  const free = await db
    .selectFrom('pool_entries')
    .selectAll()
    .where('venue_code', '=', venue)
    .where('product_code', '=', product)
    .where('status', '=', 'available')
    .orderBy('number')
    .limit(1)
    .executeTakeFirst();
  if (!free) return undefined;
  await setPoolStatus(db, free.id, 'assigned', serial, now);
  return toEntry({ ...free, status: 'assigned', serial, assigned_at: now, updated_at: now });
}

export async function setPoolStatus(
  db: Db,
  id: number,
  status: PoolStatus,
  serial: string | null,
  now: string,
): Promise<void> {
  await db
    .updateTable('pool_entries')
    .set({ status, serial, assigned_at: status === 'assigned' ? now : null, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function findPoolEntryByHostname(db: Db, hostname: string): Promise<PoolEntry | undefined> {
  const row = await db.selectFrom('pool_entries').selectAll().where('hostname', '=', hostname).executeTakeFirst();
  return row && toEntry(row);
}

export async function listPoolEntries(
  db: Db,
  filter: { venue: string; product?: string; status?: PoolStatus },
): Promise<PoolEntry[]> {
  let q = db.selectFrom('pool_entries').selectAll().where('venue_code', '=', filter.venue);
  if (filter.product) q = q.where('product_code', '=', filter.product);
  if (filter.status) q = q.where('status', '=', filter.status);
  return (await q.orderBy('product_code').orderBy('number').execute()).map(toEntry);
}

export async function poolStats(db: Db, filter: { venue?: string; product?: string }): Promise<PoolStats[]> {
  let q = db
    .selectFrom('pool_entries')
    .select(['venue_code', 'product_code', 'status'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['venue_code', 'product_code', 'status']);
  if (filter.venue) q = q.where('venue_code', '=', filter.venue);
  if (filter.product) q = q.where('product_code', '=', filter.product);
  const byPool = new Map<string, PoolStats>();
  for (const r of await q.execute()) {
    const key = `${r.venue_code}/${r.product_code}`;
    const s = byPool.get(key) ?? {
      venue: r.venue_code,
      product: r.product_code,
      available: 0,
      assigned: 0,
      retired: 0,
      total: 0,
    };
    s[r.status as PoolStatus] += Number(r.n);
    s.total += Number(r.n);
    byPool.set(key, s);
  }
  return [...byPool.values()].sort((a, b) => a.venue.localeCompare(b.venue) || a.product.localeCompare(b.product));
}

/** How many numbers are still free, counting no further than `upTo` (cheap on a large pool). */
export async function countAvailableUpTo(db: Db, venue: string, product: string, upTo: number): Promise<number> {
  const rows = await db
    .selectFrom('pool_entries')
    .select('id')
    .where('venue_code', '=', venue)
    .where('product_code', '=', product)
    .where('status', '=', 'available')
    .limit(upTo)
    .execute();
  return rows.length;
}
