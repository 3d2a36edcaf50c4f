import { BATCH_STATUSES, type DeploymentStatus, type PoolStatus, type Product } from '../protocol/fleet.js';
import type { Db } from '../store/index.js';
import { findActiveAssignment, findActiveByHostname, insertAssignment } from './assignments.repo.js';
import { insertBatch } from './batches.repo.js';
import { insertDeployment } from './deployments.repo.js';
import { upsertDevice } from './devices.repo.js';
import { FleetError } from './errors.js';
import { parseMac, parseSerial, parseVenueCode, renderHostname } from './hostname.js';
import { findPoolEntryByHostname, insertPoolEntries } from './pools.repo.js';
import { findProduct } from './products.repo.js';
import { hasBatchNamed, hasDeploymentAt, latestAssignmentNamed } from './seed-import.repo.js';
import type { SeedBatch, SeedDeployment, SeedInstallation, SeedPoolName, SeedVenue } from './seed-source.repo.js';
import { unitOfWork, type FleetDeps } from './unit-of-work.js';
import { findVenue, insertVenue } from './venues.repo.js';

/** Per kind of record: how many the import adds and how many are already here. */
export interface SeedImportCount {
  added: number;
  present: number;
}

export interface SeedImportSummary {
  venues: SeedImportCount;
  /** Kart-number pool entries, with the state each added one has. */
  poolNames: SeedImportCount & { addedByStatus: Record<PoolStatus, number> };
  /** Boards holding a name (pooled or serial-named). */
  boards: SeedImportCount;
  batches: SeedImportCount;
  /** Past deployments (`deployment_history`), kept as finished deployments. */
  deployments: SeedImportCount;
  /** Rows not brought over, each with the reason. */
  skipped: { what: string; why: string }[];
}

export interface SeedImportService {
  /**
   * Brings a seed installation's venues, pools, batches and history into this one, as one
   * transaction. `apply: false` runs the very same import and rolls it back, so the summary of a
   * dry run is exactly what applying does. Records already here are left as they are, so the
   * import can run again (it adds nothing the second time).
   */
  importSeed(seed: SeedInstallation, o: { apply: boolean }): Promise<SeedImportSummary>;
}

/** Names batches by their seed id: what makes a second import find them again. */
export const seedBatchName = (id: number) => `seed batch ${id}`;

class DryRunDone extends Error {
  constructor(readonly summary: SeedImportSummary) {
    super('dry run: rolled back');
  }
}

export function createSeedImportService(deps: FleetDeps): SeedImportService {
  return {
    async importSeed(seed, o) {
      try {
        return await unitOfWork(deps, async (tx, out) => {
          const summary = await importAll(tx, seed, out.now);
          // Thrown, not returned, so that the transaction rolls back.
          if (!o.apply) throw new DryRunDone(summary);
          return summary;
        });
      } catch (err) {
        if (err instanceof DryRunDone) return err.summary;
        throw err;
      }
    },
  };
}

const count = (): SeedImportCount => ({ added: 0, present: 0 });

async function importAll(tx: Db, seed: SeedInstallation, now: string): Promise<SeedImportSummary> {
  const s: SeedImportSummary = {
    venues: count(),
    poolNames: { ...count(), addedByStatus: { available: 0, assigned: 0, retired: 0 } },
    boards: count(),
    batches: count(),
    deployments: count(),
    skipped: [],
  };
  const products = new Map<string, Product | undefined>();
  const product = async (code: string) => {
    if (!products.has(code)) products.set(code, await findProduct(tx, code.toUpperCase()));
    return products.get(code);
  };
  for (const v of seed.venues) await importVenue(tx, v, now, s);
  for (const p of seed.pool) await importPoolName(tx, p, await product(p.product), now, s);
  for (const b of seed.batches) await importBatch(tx, b, await product(b.product), now, s);
  for (const d of seed.history) await importDeployment(tx, d, now, s);
  return s;
}

async function importVenue(tx: Db, v: SeedVenue, now: string, s: SeedImportSummary): Promise<void> {
  const code = validVenue(v.code);
  if (!code) return skip(s, `venue ${JSON.stringify(v.code)}`, 'the code is not 4 letters or digits');
  if (await findVenue(tx, code)) {
    s.venues.present++;
    return;
  }
  await insertVenue(tx, {
    code,
    name: v.name || code,
    location: v.location,
    contact: v.contactEmail,
    created_at: v.createdAt ?? now,
    updated_at: now,
  });
  s.venues.added++;
}

async function importPoolName(
  tx: Db,
  p: SeedPoolName,
  product: Product | undefined,
  now: string,
  s: SeedImportSummary,
): Promise<void> {
  const label = `${p.product}-${p.venue}-${p.identifier}`;
  const venue = validVenue(p.venue);
  if (!product) return skip(s, label, `product ${p.product} is not defined here`);
  if (!venue || !(await findVenue(tx, venue))) return skip(s, label, `venue ${p.venue} is not in the import`);
  const status = p.status as PoolStatus;
  if (status !== 'available' && status !== 'assigned' && status !== 'retired')
    return skip(s, label, `unknown state ${JSON.stringify(p.status)}`);
  const board = p.serial ? validSerial(p.serial) : undefined;
  const mac = p.mac ? validMac(p.mac) : undefined;

  if (product.naming === 'serial') {
    // Serial-named products have no pool: only a board that holds its name is worth bringing over.
    if (status !== 'assigned')
      return skip(s, label, `${product.code} names come from serials; an unheld one means nothing`);
    if (!board) return skip(s, label, 'held by a board whose serial is unknown');
    const hostname = renderHostname(product.hostnamePattern, { venue, product: product.code, serial8: board.serial8 });
    await holdName(
      tx,
      { ...board, venue, product: product.code, hostname, poolEntryId: null, mac, at: p.assignedAt ?? now },
      now,
      s,
    );
    return;
  }

  const number = /^\d{1,6}$/.test(p.identifier) ? Number(p.identifier) : NaN;
  if (!Number.isInteger(number)) return skip(s, label, 'the kart number is not a number');
  const hostname = renderHostname(product.hostnamePattern, { venue, product: product.code, number });
  if (await findPoolEntryByHostname(tx, hostname)) {
    s.poolNames.present++;
    if (status === 'assigned' && board && (await findActiveAssignment(tx, board.serial, venue, product.code)))
      s.boards.present++;
    return;
  }
  // A name held by a board we cannot identify stays out of use rather than going to a second board.
  const heldByUnknown = status === 'assigned' && !board;
  const held = status === 'assigned' && board && !(await findActiveAssignment(tx, board.serial, venue, product.code));
  const state: PoolStatus = status === 'assigned' && !held ? 'retired' : status;
  if (heldByUnknown)
    skip(
      s,
      `${hostname}'s board`,
      `no usable serial (${JSON.stringify(p.serial)}); the name is imported as retired: free it with rpi-deploy pool release ${hostname}`,
    );
  else if (status === 'assigned' && !held)
    skip(s, `${hostname}'s board`, 'the board already holds another name here; the name is imported as retired');
  await insertPoolEntries(tx, [
    {
      venue_code: venue,
      product_code: product.code,
      number,
      hostname,
      status: state,
      serial: held ? board.serial : null,
      assigned_at: held ? (p.assignedAt ?? now) : null,
      created_at: now,
      updated_at: now,
    },
  ]);
  s.poolNames.added++;
  s.poolNames.addedByStatus[state]++;
  if (held) {
    const entry = await findPoolEntryByHostname(tx, hostname);
    await holdName(
      tx,
      { ...board, venue, product: product.code, hostname, poolEntryId: entry!.id, mac, at: p.assignedAt ?? now },
      now,
      s,
    );
  }
}

interface Held {
  serial: string;
  serial8: string;
  venue: string;
  product: string;
  hostname: string;
  poolEntryId: number | null;
  mac: string | undefined;
  at: string;
}

async function holdName(tx: Db, h: Held, now: string, s: SeedImportSummary): Promise<void> {
  const current = await findActiveAssignment(tx, h.serial, h.venue, h.product);
  if (current || (await findActiveByHostname(tx, h.hostname))) {
    s.boards.present++;
    return;
  }
  await upsertDevice(tx, { serial: h.serial, serial8: h.serial8, macs: h.mac ? [h.mac] : [], model: null }, now);
  await insertAssignment(tx, {
    serial: h.serial,
    venue_code: h.venue,
    product_code: h.product,
    hostname: h.hostname,
    pool_entry_id: h.poolEntryId,
    batch_id: null,
    assigned_at: h.at,
    released_at: null,
    release_reason: null,
  });
  s.boards.added++;
}

async function importBatch(
  tx: Db,
  b: SeedBatch,
  product: Product | undefined,
  now: string,
  s: SeedImportSummary,
): Promise<void> {
  const label = `batch ${b.id}`;
  const venue = validVenue(b.venue);
  if (!product) return skip(s, label, `product ${b.product} is not defined here`);
  if (!venue || !(await findVenue(tx, venue))) return skip(s, label, `venue ${b.venue} is not in the import`);
  if (!(BATCH_STATUSES as readonly string[]).includes(b.status))
    return skip(s, label, `unknown state ${JSON.stringify(b.status)}`);
  if (!(b.totalCount >= 1)) return skip(s, label, `a count of ${b.totalCount} boards`);
  const name = seedBatchName(b.id);
  if (await hasBatchNamed(tx, venue, product.code, name)) {
    s.batches.present++;
    return;
  }
  await insertBatch(tx, {
    venue_code: venue,
    product_code: product.code,
    name,
    expected_count: b.totalCount,
    priority: Number.isInteger(b.priority) ? b.priority : 0,
    status: b.status,
    created_at: b.createdAt ?? now,
    activated_at: b.startedAt,
    finished_at: b.completedAt,
    updated_at: now,
  });
  s.batches.added++;
}

async function importDeployment(tx: Db, d: SeedDeployment, now: string, s: SeedImportSummary): Promise<void> {
  const label = `deployment ${d.id} (${d.hostname})`;
  const board = d.serial ? validSerial(d.serial) : undefined;
  if (!board) return skip(s, label, `no usable serial (${JSON.stringify(d.serial)})`);
  // The seed's names are PRODUCT-VENUE-ID: a row without product or venue still names them.
  const [fromName, venueFromName] = d.hostname.split('-');
  const venue = validVenue(d.venue ?? venueFromName ?? '');
  const product = (d.product ?? fromName ?? '').toUpperCase();
  if (!venue || !(await findVenue(tx, venue)))
    return skip(s, label, `venue ${d.venue ?? venueFromName} is not in the import`);
  if (!(await findProduct(tx, product))) return skip(s, label, `product ${product} is not defined here`);
  const startedAt = d.startedAt ?? d.completedAt;
  if (!startedAt) return skip(s, label, 'it has no start or end time');
  if (await hasDeploymentAt(tx, board.serial, d.hostname, startedAt)) {
    s.deployments.present++;
    return;
  }
  const finishedAt = d.completedAt ?? startedAt;
  // A deployment the seed left unfinished never will finish now: it is kept as failed, saying so.
  const status: DeploymentStatus = d.status === 'success' ? 'success' : 'failed';
  const error =
    status === 'success'
      ? null
      : d.status === 'failed'
        ? (d.error ?? 'failed (no reason recorded)')
        : `imported from the seed unfinished (last report: ${d.status ?? 'none'})`;
  await upsertDevice(
    tx,
    {
      serial: board.serial,
      serial8: board.serial8,
      macs: d.mac && validMac(d.mac) ? [validMac(d.mac)!] : [],
      model: null,
    },
    now,
  );
  const name =
    (await latestAssignmentNamed(tx, board.serial, d.hostname)) ??
    // A name the board no longer holds: kept as a released record so the deployment can point at it.
    (await insertAssignment(tx, {
      serial: board.serial,
      venue_code: venue,
      product_code: product,
      hostname: d.hostname,
      pool_entry_id: null,
      batch_id: null,
      assigned_at: startedAt,
      released_at: finishedAt,
      release_reason: 'seed history',
    }));
  await insertDeployment(tx, {
    serial: board.serial,
    assignment_id: name.id,
    hostname: d.hostname,
    venue_code: venue,
    product_code: product,
    batch_id: null,
    image_id: null,
    status,
    error,
    ip: d.ip,
    mac: d.mac ? (validMac(d.mac) ?? null) : null,
    enrolled_at: startedAt,
    downloading_at: null,
    writing_at: null,
    verifying_at: null,
    customizing_at: null,
    finished_at: finishedAt,
    updated_at: now,
  });
  s.deployments.added++;
}

function skip(s: SeedImportSummary, what: string, why: string): void {
  s.skipped.push({ what, why });
}

/** A seed value that fails our rule is reported and skipped, not fatal: the rest still comes over. */
function valid<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (err instanceof FleetError) return undefined;
    throw err;
  }
}
const validVenue = (code: string) => valid(() => parseVenueCode(code));
const validSerial = (serial: string) => valid(() => parseSerial(serial));
const validMac = (mac: string) => valid(() => parseMac(mac));
