import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Capture, CaptureStatus } from '../protocol/capture.js';
import type { SanitiseStep } from '../protocol/sanitise.js';
import type { CapturesTable, Db } from '../store/index.js';

/** Statuses in which a capture still holds its board (one at a time per board). */
export const OPEN_CAPTURE_STATUSES: readonly CaptureStatus[] = ['pending', 'capturing', 'assembling'];

function toCapture(r: Selectable<CapturesTable>): Capture {
  return {
    id: r.id,
    serial: r.serial,
    product: r.product_code,
    version: r.version,
    notes: r.notes,
    keep: JSON.parse(r.keep) as SanitiseStep[],
    status: r.status as CaptureStatus,
    bytesReceived: r.bytes_received,
    bytesTotal: r.bytes_total,
    imageId: r.image_id,
    error: r.error,
    sanitiseReport: r.sanitise_report === null ? null : (JSON.parse(r.sanitise_report) as unknown),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function insertCapture(db: Db, row: Insertable<CapturesTable>): Promise<Capture> {
  return toCapture(await db.insertInto('captures').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function findCapture(db: Db, id: number): Promise<Capture | undefined> {
  const row = await db.selectFrom('captures').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toCapture(row);
}

export async function findOpenCapture(db: Db, serial: string): Promise<Capture | undefined> {
  const row = await db
    .selectFrom('captures')
    .selectAll()
    .where('serial', '=', serial)
    .where('status', 'in', OPEN_CAPTURE_STATUSES)
    .executeTakeFirst();
  return row && toCapture(row);
}

export async function findCaptureByToken(db: Db, tokenSha256: string): Promise<Capture | undefined> {
  const row = await db.selectFrom('captures').selectAll().where('token_sha256', '=', tokenSha256).executeTakeFirst();
  return row && toCapture(row);
}

export async function listCaptures(db: Db, filter: { status?: CaptureStatus | undefined } = {}): Promise<Capture[]> {
  let q = db.selectFrom('captures').selectAll().orderBy('id', 'desc');
  if (filter.status) q = q.where('status', '=', filter.status);
  return (await q.execute()).map(toCapture);
}

export async function updateCapture(db: Db, id: number, change: Updateable<CapturesTable>): Promise<Capture> {
  return toCapture(
    await db.updateTable('captures').set(change).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
  );
}

/** Counts `bytes` more received, in one statement (chunks arrive in parallel). */
export async function addReceived(db: Db, id: number, bytes: number, at: string): Promise<Capture> {
  return toCapture(
    await db
      .updateTable('captures')
      .set((eb) => ({ bytes_received: eb('bytes_received', '+', bytes), updated_at: at }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}
