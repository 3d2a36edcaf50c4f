import { checkSchema } from '../lib/validate.js';
import { BatchInput, type Batch, type BatchStatus } from '../protocol/fleet.js';
import type { Db } from '../store/index.js';
import { batchProgress, findBatchRow, insertBatch, listBatchRows, setBatchStatus } from './batches.repo.js';
import { FleetError, invalidInput } from './errors.js';
import { parseProductCode, parseVenueCode } from './hostname.js';
import { findProduct } from './products.repo.js';
import { unknownProduct } from './products.service.js';
import { unitOfWork, type FleetDeps, type Outbox } from './unit-of-work.js';
import { findVenue } from './venues.repo.js';
import { unknownVenue } from './venues.service.js';

/** Which operator actions lead where; `completed` is reached only by filling the batch. */
const ACTIONS = {
  activate: { from: ['pending', 'paused'], to: 'active' },
  pause: { from: ['active'], to: 'paused' },
  cancel: { from: ['pending', 'active', 'paused'], to: 'cancelled' },
} as const satisfies Record<string, { from: readonly BatchStatus[]; to: BatchStatus }>;

export type BatchAction = keyof typeof ACTIONS;

export interface BatchService {
  list(filter?: { venue?: string | undefined; status?: BatchStatus | undefined }): Promise<Batch[]>;
  get(id: number): Promise<Batch>;
  /** A new batch starts `pending`; boards are named from it once it is activated. */
  create(input: BatchInput): Promise<Batch>;
  apply(id: number, action: BatchAction): Promise<Batch>;
}

export function createBatchService(deps: FleetDeps): BatchService {
  const { store } = deps;

  async function get(db: Db, id: number): Promise<Batch> {
    const row = await findBatchRow(db, id);
    if (!row)
      throw new FleetError(
        'FLEET_BATCH_UNKNOWN',
        `Batch ${id} does not exist; list batches with: rpi-deploy batch list`,
        { batchId: id },
      );
    return batchProgress(db, row);
  }

  return {
    async list(filter = {}) {
      const rows = await listBatchRows(store.db, {
        ...(filter.venue && { venue: parseVenueCode(filter.venue) }),
        ...(filter.status && { status: filter.status }),
      });
      return Promise.all(rows.map((r) => batchProgress(store.db, r)));
    },

    get: (id) => get(store.db, id),

    async create(input) {
      const b = checkSchema(BatchInput, input, invalidInput);
      const venue = parseVenueCode(b.venue);
      const product = parseProductCode(b.product);
      return unitOfWork(deps, async (tx, out) => {
        if (!(await findVenue(tx, venue))) throw unknownVenue(venue);
        if (!(await findProduct(tx, product))) throw unknownProduct(product);
        const id = await insertBatch(tx, {
          venue_code: venue,
          product_code: product,
          name: b.name?.trim() || null,
          expected_count: b.expectedCount,
          priority: b.priority ?? 0,
          status: 'pending',
          created_at: out.now,
          updated_at: out.now,
        });
        await out.record('batch.status', { batchId: id, venue, product, status: 'pending' });
        return get(tx, id);
      });
    },

    apply: (id, action) =>
      unitOfWork(deps, async (tx, out) => {
        const batch = await get(tx, id);
        const rule = ACTIONS[action];
        if (!(rule.from as readonly BatchStatus[]).includes(batch.status)) {
          throw new FleetError(
            'FLEET_BATCH_TRANSITION',
            `Batch ${id} is ${batch.status}; it cannot ${action} (only from ${rule.from.join(' or ')})`,
            {
              batchId: id,
              status: batch.status,
              action,
            },
          );
        }
        await changeStatus(tx, out, batch, rule.to);
        return get(tx, id);
      }),
  };
}

export async function changeStatus(
  tx: Db,
  out: Outbox,
  batch: Pick<Batch, 'id' | 'venue' | 'product'>,
  status: BatchStatus,
): Promise<void> {
  await setBatchStatus(tx, batch.id, status, out.now);
  await out.record('batch.status', { batchId: batch.id, venue: batch.venue, product: batch.product, status });
}
