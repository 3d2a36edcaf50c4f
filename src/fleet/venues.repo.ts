import type { Db, VenuesTable } from '../store/index.js';
import type { Venue } from '../protocol/fleet.js';

function toVenue(r: VenuesTable): Venue {
  return {
    code: r.code,
    name: r.name,
    location: r.location,
    contact: r.contact,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function findVenue(db: Db, code: string): Promise<Venue | undefined> {
  const row = await db.selectFrom('venues').selectAll().where('code', '=', code).executeTakeFirst();
  return row && toVenue(row);
}

export async function listVenues(db: Db): Promise<Venue[]> {
  return (await db.selectFrom('venues').selectAll().orderBy('code').execute()).map(toVenue);
}

export async function insertVenue(db: Db, row: VenuesTable): Promise<void> {
  await db.insertInto('venues').values(row).execute();
}

export async function updateVenue(
  db: Db,
  code: string,
  patch: Partial<Pick<VenuesTable, 'name' | 'location' | 'contact'>>,
  now: string,
): Promise<void> {
  await db
    .updateTable('venues')
    .set({ ...patch, updated_at: now })
    .where('code', '=', code)
    .execute();
}

export async function deleteVenue(db: Db, code: string): Promise<void> {
  await db.deleteFrom('venues').where('code', '=', code).execute();
}
