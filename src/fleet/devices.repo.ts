import type { Selectable } from 'kysely';
import type { Db, DevicesTable } from '../store/index.js';
import type { Device } from '../protocol/fleet.js';

type Row = Selectable<DevicesTable>;

function toDevice(r: Row, hostname: string | null): Device {
  return {
    serial: r.serial,
    serial8: r.serial8,
    macs: JSON.parse(r.macs) as string[],
    model: r.model,
    hostname,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    reimageRequestedAt: r.reimage_requested_at,
  };
}

/** Records that a board was seen; MACs accumulate, a known model is kept unless a new one is reported. */
export async function upsertDevice(
  db: Db,
  d: { serial: string; serial8: string; macs: string[]; model: string | null },
  now: string,
): Promise<void> {
  const existing = await db.selectFrom('devices').selectAll().where('serial', '=', d.serial).executeTakeFirst();
  if (!existing) {
    await db
      .insertInto('devices')
      .values({
        serial: d.serial,
        serial8: d.serial8,
        macs: JSON.stringify(d.macs),
        model: d.model,
        first_seen_at: now,
        last_seen_at: now,
        reimage_requested_at: null,
      })
      .execute();
    return;
  }
  const macs = [...new Set([...(JSON.parse(existing.macs) as string[]), ...d.macs])];
  await db
    .updateTable('devices')
    // Enrolling again is what a re-image request asked for, so the request is used up.
    .set({
      macs: JSON.stringify(macs),
      model: d.model ?? existing.model,
      last_seen_at: now,
      reimage_requested_at: null,
    })
    .where('serial', '=', d.serial)
    .execute();
}

const withHostname = (db: Db) =>
  db
    .selectFrom('devices')
    .selectAll('devices')
    .select((eb) =>
      eb
        .selectFrom('assignments')
        .select('hostname')
        .whereRef('assignments.serial', '=', 'devices.serial')
        .where('released_at', 'is', null)
        .orderBy('id', 'desc')
        .limit(1)
        .as('hostname'),
    );

export async function findDevice(db: Db, serial: string): Promise<Device | undefined> {
  const row = await withHostname(db).where('devices.serial', '=', serial).executeTakeFirst();
  return row && toDevice(row, row.hostname);
}

export async function listDevices(db: Db, filter: { limit: number; offset: number }): Promise<Device[]> {
  const rows = await withHostname(db)
    .orderBy('last_seen_at', 'desc')
    .limit(filter.limit)
    .offset(filter.offset)
    .execute();
  return rows.map((r) => toDevice(r, r.hostname));
}

export async function setReimageRequested(db: Db, serial: string, now: string): Promise<void> {
  await db.updateTable('devices').set({ reimage_requested_at: now }).where('serial', '=', serial).execute();
}

/** Boards whose serial ends in these 8 hex digits (the bootloader only knows the low 32 bits). */
export async function findDevicesBySerial8(db: Db, serial8: string): Promise<Device[]> {
  const rows = await withHostname(db).where('devices.serial8', '=', serial8).orderBy('last_seen_at', 'desc').execute();
  return rows.map((r) => toDevice(r, r.hostname));
}
