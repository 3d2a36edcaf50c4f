import type { Insertable, Selectable } from 'kysely';
import type { AssignmentsTable, Db } from '../store/index.js';

export type Assignment = Selectable<AssignmentsTable>;

export async function findActiveAssignment(
  db: Db,
  serial: string,
  venue: string,
  product: string,
): Promise<Assignment | undefined> {
  return db
    .selectFrom('assignments')
    .selectAll()
    .where('serial', '=', serial)
    .where('venue_code', '=', venue)
    .where('product_code', '=', product)
    .where('released_at', 'is', null)
    .executeTakeFirst();
}

/** Active names of a board, newest first. */
export async function activeAssignmentsOf(db: Db, serial: string): Promise<Assignment[]> {
  return db
    .selectFrom('assignments')
    .selectAll()
    .where('serial', '=', serial)
    .where('released_at', 'is', null)
    .orderBy('id', 'desc')
    .execute();
}

export async function findActiveByHostname(db: Db, hostname: string): Promise<Assignment | undefined> {
  return db
    .selectFrom('assignments')
    .selectAll()
    .where('hostname', '=', hostname)
    .where('released_at', 'is', null)
    .executeTakeFirst();
}

export async function insertAssignment(db: Db, row: Insertable<AssignmentsTable>): Promise<Assignment> {
  return db.insertInto('assignments').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function releaseAssignment(db: Db, id: number, now: string, reason: string): Promise<void> {
  await db.updateTable('assignments').set({ released_at: now, release_reason: reason }).where('id', '=', id).execute();
}

export async function activeAssignmentsAtVenue(db: Db, venue: string): Promise<Assignment[]> {
  return db
    .selectFrom('assignments')
    .selectAll()
    .where('venue_code', '=', venue)
    .where('released_at', 'is', null)
    .execute();
}

export async function countAssignmentsInBatch(db: Db, batchId: number): Promise<number> {
  const r = await db
    .selectFrom('assignments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('batch_id', '=', batchId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
