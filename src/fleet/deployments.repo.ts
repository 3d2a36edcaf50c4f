import type { Insertable, Selectable } from 'kysely';
import type { Db, DeploymentsTable } from '../store/index.js';
import type { Deployment, DeploymentFilter, DeploymentStatus } from '../protocol/fleet.js';
import type { ImagingSettings, WriteStats } from '../protocol/imaging.js';
import { phaseColumn } from './deployment-state.js';

type Row = Selectable<DeploymentsTable>;

export function toDeployment(r: Row): Deployment {
  return {
    id: r.id,
    serial: r.serial,
    hostname: r.hostname,
    venue: r.venue_code,
    product: r.product_code,
    batchId: r.batch_id,
    imageId: r.image_id,
    status: r.status as DeploymentStatus,
    error: r.error,
    ip: r.ip,
    mac: r.mac,
    enrolledAt: r.enrolled_at,
    downloadingAt: r.downloading_at,
    writingAt: r.writing_at,
    verifyingAt: r.verifying_at,
    customizingAt: r.customizing_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    imaging: r.imaging === null ? null : (JSON.parse(r.imaging) as ImagingSettings),
    writeStats: r.write_stats === null ? null : (JSON.parse(r.write_stats) as WriteStats),
  };
}

export async function insertDeployment(db: Db, row: Insertable<DeploymentsTable>): Promise<Deployment> {
  return toDeployment(await db.insertInto('deployments').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function findDeployment(db: Db, id: number): Promise<Deployment | undefined> {
  const row = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toDeployment(row);
}

/** Deployments of a board that have not ended yet. */
export async function openDeploymentsOf(db: Db, serial: string): Promise<Deployment[]> {
  const rows = await db
    .selectFrom('deployments')
    .selectAll()
    .where('serial', '=', serial)
    .where('status', 'not in', ['success', 'failed'])
    .execute();
  return rows.map(toDeployment);
}

export async function setDeploymentStatus(
  db: Db,
  id: number,
  status: DeploymentStatus,
  error: string | null,
  now: string,
): Promise<Deployment> {
  const row = await db
    .updateTable('deployments')
    .set({ status, error, [phaseColumn(status)]: now, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toDeployment(row);
}

/** Records which master image a deployment writes. */
export async function setDeploymentImage(
  db: Db,
  id: number,
  imageId: number,
  /** Null for the seed's installers, which write the raw image their own way. */
  imaging: ImagingSettings | null,
): Promise<void> {
  await db
    .updateTable('deployments')
    .set({ image_id: imageId, imaging: imaging && JSON.stringify(imaging) })
    .where('id', '=', id)
    .execute();
}

/** Keeps what the board's write did (from its result) with the deployment. */
export async function setDeploymentWriteStats(db: Db, id: number, stats: WriteStats): Promise<void> {
  await db
    .updateTable('deployments')
    .set({ write_stats: JSON.stringify(stats) })
    .where('id', '=', id)
    .execute();
}

/** Notes that the board of a deployment was heard from, without a phase change. */
export async function touchDeployment(db: Db, id: number, now: string): Promise<void> {
  await db.updateTable('deployments').set({ updated_at: now }).where('id', '=', id).execute();
}

/** Open deployments whose board has not been heard from since `before`. */
export async function silentDeployments(db: Db, before: string): Promise<Deployment[]> {
  const rows = await db
    .selectFrom('deployments')
    .selectAll()
    .where('status', 'not in', ['success', 'failed'])
    .where('updated_at', '<', before)
    .execute();
  return rows.map(toDeployment);
}

export async function listDeployments(db: Db, f: DeploymentFilter): Promise<Deployment[]> {
  let q = db.selectFrom('deployments').selectAll();
  if (f.venue) q = q.where('venue_code', '=', f.venue);
  if (f.product) q = q.where('product_code', '=', f.product);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.serial) q = q.where('serial', '=', f.serial);
  if (f.batchId !== undefined) q = q.where('batch_id', '=', f.batchId);
  if (f.since) q = q.where('enrolled_at', '>=', f.since);
  if (f.until) q = q.where('enrolled_at', '<', f.until);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(f.limit ?? 100)
    .offset(f.offset ?? 0)
    .execute();
  return rows.map(toDeployment);
}

/** Deployments by status, at one venue or (`venue` undefined) everywhere. */
export async function deploymentCountsByStatus(db: Db, venue: string | undefined): Promise<Record<string, number>> {
  let q = db
    .selectFrom('deployments')
    .select('status')
    .select((eb) => eb.fn.countAll<number>().as('n'));
  if (venue !== undefined) q = q.where('venue_code', '=', venue);
  const rows = await q.groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** The newest deployment of a board, if it ever enrolled. */
export async function latestDeploymentOf(db: Db, serial: string): Promise<Deployment | undefined> {
  const row = await db
    .selectFrom('deployments')
    .selectAll()
    .where('serial', '=', serial)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toDeployment(row);
}
