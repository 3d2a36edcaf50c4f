import type { Selectable } from 'kysely';
import type { AssignmentsTable, Db } from '../store/index.js';

/** The newest name record (held or released) of `serial` under `hostname`. */
export async function latestAssignmentNamed(
  db: Db,
  serial: string,
  hostname: string,
): Promise<Selectable<AssignmentsTable> | undefined> {
  return db
    .selectFrom('assignments')
    .selectAll()
    .where('serial', '=', serial)
    .where('hostname', '=', hostname)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** Whether a deployment of `serial` as `hostname` that began at `enrolledAt` is on record. */
export async function hasDeploymentAt(db: Db, serial: string, hostname: string, enrolledAt: string): Promise<boolean> {
  const row = await db
    .selectFrom('deployments')
    .select('id')
    .where('serial', '=', serial)
    .where('hostname', '=', hostname)
    .where('enrolled_at', '=', enrolledAt)
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether a batch named `name` exists for this venue and product. */
export async function hasBatchNamed(db: Db, venue: string, product: string, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('batches')
    .select('id')
    .where('venue_code', '=', venue)
    .where('product_code', '=', product)
    .where('name', '=', name)
    .executeTakeFirst();
  return row !== undefined;
}
