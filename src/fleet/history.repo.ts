import type { Db } from '../store/index.js';
import type { HistoryEntry } from '../protocol/fleet.js';

export interface HistoryAppend {
  at: string;
  type: string;
  deploymentId: number | null;
  serial: string | null;
  data: Record<string, unknown>;
}

export async function appendHistory(db: Db, e: HistoryAppend): Promise<number> {
  const r = await db
    .insertInto('history')
    .values({ at: e.at, type: e.type, deployment_id: e.deploymentId, serial: e.serial, data: JSON.stringify(e.data) })
    .returning('seq')
    .executeTakeFirstOrThrow();
  return r.seq;
}

export async function listHistory(
  db: Db,
  f: { deploymentId?: number; serial?: string; afterSeq?: number; limit: number },
): Promise<HistoryEntry[]> {
  let q = db.selectFrom('history').selectAll();
  if (f.deploymentId !== undefined) q = q.where('deployment_id', '=', f.deploymentId);
  if (f.serial) q = q.where('serial', '=', f.serial);
  if (f.afterSeq !== undefined) q = q.where('seq', '>', f.afterSeq);
  const rows = await q.orderBy('seq').limit(f.limit).execute();
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at,
    type: r.type,
    deploymentId: r.deployment_id,
    serial: r.serial,
    data: JSON.parse(r.data) as Record<string, unknown>,
  }));
}

/** The seq of the newest history row, 0 when there is none. */
export async function lastHistorySeq(db: Db): Promise<number> {
  const r = await db
    .selectFrom('history')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(r?.seq ?? 0);
}

/** Deletes history rows that happened before `at` (an ISO timestamp); returns how many went. */
export async function deleteHistoryBefore(db: Db, at: string): Promise<number> {
  const r = await db.deleteFrom('history').where('at', '<', at).executeTakeFirst();
  return Number(r.numDeletedRows);
}
