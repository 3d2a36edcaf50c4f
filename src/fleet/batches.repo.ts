import type { Insertable, Selectable } from 'kysely';
import type { BatchesTable, Db } from '../store/index.js';
import type { Batch, BatchStatus } from '../protocol/fleet.js';

type Row = Selectable<BatchesTable>;

export async function insertBatch(db: Db, row: Insertable<BatchesTable>): Promise<number> {
  const r = await db.insertInto('batches').values(row).returning('id').executeTakeFirstOrThrow();
  return r.id;
}

export async function findBatchRow(db: Db, id: number): Promise<Row | undefined> {
  return db.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listBatchRows(
  db: Db,
  filter: { venue?: string; product?: string; status?: BatchStatus },
): Promise<Row[]> {
  let q = db.selectFrom('batches').selectAll();
  if (filter.venue) q = q.where('venue_code', '=', filter.venue);
  if (filter.product) q = q.where('product_code', '=', filter.product);
  if (filter.status) q = q.where('status', '=', filter.status);
  return q.orderBy('id', 'desc').execute();
}

export async function setBatchStatus(db: Db, id: number, status: BatchStatus, now: string): Promise<void> {
  await db
    .updateTable('batches')
    .set((eb) => ({
      status,
      updated_at: now,
      activated_at: status === 'active' ? eb.fn.coalesce('activated_at', eb.val(now)) : eb.ref('activated_at'),
      finished_at: status === 'completed' || status === 'cancelled' ? now : null,
    }))
    .where('id', '=', id)
    .execute();
}

/** The batch that names the next board: highest priority, then oldest. */
export async function topActiveBatch(db: Db, filter: { venue?: string; product?: string }): Promise<Row | undefined> {
  let q = db.selectFrom('batches').selectAll().where('status', '=', 'active');
  if (filter.venue) q = q.where('venue_code', '=', filter.venue);
  if (filter.product) q = q.where('product_code', '=', filter.product);
  return q.orderBy('priority', 'desc').orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
}

/**
 * Progress counts boards, not attempts: a board that failed once and then succeeded counts as
 * succeeded, because only its latest deployment in the batch decides.
 */
export async function batchProgress(db: Db, row: Row): Promise<Batch> {
  const assigned = await db
    .selectFrom('assignments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('batch_id', '=', row.id)
    .executeTakeFirstOrThrow();
  const latest = await db
    .selectFrom('deployments as d')
    .innerJoin(
      (eb) =>
        eb
          .selectFrom('deployments')
          .select((e) => e.fn.max('id').as('id'))
          .where('batch_id', '=', row.id)
          .groupBy('serial')
          .as('last'),
      (join) => join.onRef('last.id', '=', 'd.id'),
    )
    .select('d.status')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy('d.status')
    .execute();
  const count = (s: string) => Number(latest.find((r) => r.status === s)?.n ?? 0);
  return {
    id: row.id,
    venue: row.venue_code,
    product: row.product_code,
    name: row.name,
    expectedCount: row.expected_count,
    priority: row.priority,
    status: row.status as BatchStatus,
    assigned: Number(assigned.n),
    succeeded: count('success'),
    failed: count('failed'),
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    finishedAt: row.finished_at,
  };
}
