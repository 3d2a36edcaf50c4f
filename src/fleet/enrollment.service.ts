import { createEmit } from '../lib/event-bus.js';
import type { FleetEvents } from '../protocol/events.js';
import type { Deployment, DeploymentStatus, Device, Enrollment, Product } from '../protocol/fleet.js';
import type { Db } from '../store/index.js';
import {
  activeAssignmentsOf,
  countAssignmentsInBatch,
  findActiveAssignment,
  findActiveByHostname,
  insertAssignment,
  releaseAssignment,
  type Assignment,
} from './assignments.repo.js';
import { topActiveBatch } from './batches.repo.js';
import { changeStatus } from './batches.service.js';
import { transition } from './deployment-state.js';
import { findDeployment, insertDeployment, openDeploymentsOf, setDeploymentStatus } from './deployments.repo.js';
import { findDevice, setReimageRequested, upsertDevice } from './devices.repo.js';
import { FleetError } from './errors.js';
import { parseMac, parseProductCode, parseSerial, parseVenueCode, renderHostname } from './hostname.js';
import { claimLowestAvailable, countAvailableUpTo, poolStats, setPoolStatus } from './pools.repo.js';
import { findProduct } from './products.repo.js';
import { unknownProduct } from './products.service.js';
import { unitOfWork, type FleetDeps, type Outbox } from './unit-of-work.js';
import { findVenue } from './venues.repo.js';
import { unknownVenue } from './venues.service.js';

/** A board asking for its name and a new imaging attempt. */
export interface EnrollInput {
  serial: string;
  macs?: string[] | undefined;
  model?: string | null | undefined;
  /** Venue and product may be left out: the board's current name, else the top active batch, decides. */
  venue?: string | undefined;
  product?: string | undefined;
  ip?: string | null | undefined;
}

export interface EnrollmentService {
  /**
   * One transaction: record the board, give it a name (its existing one if it has one — names
   * are idempotent per serial), end any attempt still open and open a new deployment.
   */
  enroll(input: EnrollInput): Promise<Enrollment>;
  /** Moves a deployment to `phase`; repeated or late reports change nothing. */
  advance(
    deploymentId: number,
    phase: DeploymentStatus,
    options?: { error?: string | undefined },
  ): Promise<{ deployment: Deployment; changed: boolean }>;
  /** An operator asks for a board to be imaged again: network boot is offered to it once more. */
  requestReimage(serial: string): Promise<Device>;
}

/** Warn the dashboard when a pool runs this low. */
const POOL_LOW_WATERMARK = 5;
const ERROR_TEXT_MAX = 2000;

/** Enroll input after parsing: a serial, normalised MACs and codes. */
export interface ParsedEnrollInput {
  serial: string;
  serial8: string;
  macs: string[];
  model: string | null;
  venue: string | undefined;
  product: string | undefined;
  ip: string | null;
}

export function parseEnrollInput(input: EnrollInput): ParsedEnrollInput {
  const { serial, serial8 } = parseSerial(input.serial);
  return {
    serial,
    serial8,
    macs: (input.macs ?? []).map(parseMac),
    model: input.model?.trim() || null,
    venue: input.venue === undefined ? undefined : parseVenueCode(input.venue),
    product: input.product === undefined ? undefined : parseProductCode(input.product),
    ip: input.ip ?? null,
  };
}

/** Tells the live stream why a board was refused a name, then rethrows. */
export function publishRefusal(deps: FleetDeps, input: ParsedEnrollInput, err: unknown): never {
  if (err instanceof FleetError) {
    const emit = createEmit<FleetEvents>(deps.events, deps.clock);
    emit('enroll.refused', {
      serial: input.serial,
      venue: input.venue ?? null,
      product: input.product ?? null,
      code: err.code,
      message: err.message,
    });
  }
  throw err;
}

/**
 * Inside one transaction: record the board, give it a name (its existing one if it has one —
 * names are idempotent per serial), end any attempt still open and open a new deployment.
 */
export async function enrollIn(tx: Db, out: Outbox, input: ParsedEnrollInput): Promise<Enrollment> {
  const { serial } = input;
  await upsertDevice(tx, { serial, serial8: input.serial8, macs: input.macs, model: input.model }, out.now);
  const target = await resolveTarget(tx, serial, input.venue, input.product);
  const { assignment, reused } = await assign(tx, out, serial, target);
  for (const open of await openDeploymentsOf(tx, serial)) {
    const ended = await setDeploymentStatus(tx, open.id, 'failed', 'superseded: the board enrolled again', out.now);
    await recordPhase(out, ended);
  }
  const deployment = await insertDeployment(tx, {
    serial,
    assignment_id: assignment.id,
    hostname: assignment.hostname,
    venue_code: assignment.venue_code,
    product_code: assignment.product_code,
    batch_id: assignment.batch_id,
    status: 'enrolled',
    ip: input.ip,
    mac: input.macs[0] ?? null,
    enrolled_at: out.now,
    updated_at: out.now,
  });
  await recordPhase(out, deployment);
  return { deployment, device: (await findDevice(tx, serial))!, hostname: assignment.hostname, reused };
}

/** Moves a deployment to `phase` inside a transaction; repeated or late reports change nothing. */
export async function advanceIn(
  tx: Db,
  out: Outbox,
  deploymentId: number,
  phase: DeploymentStatus,
  options: { error?: string | undefined } = {},
): Promise<{ deployment: Deployment; changed: boolean }> {
  const current = await findDeployment(tx, deploymentId);
  if (!current)
    throw new FleetError('FLEET_DEPLOYMENT_UNKNOWN', `Deployment ${deploymentId} does not exist`, { deploymentId });
  const t = transition(current.status, phase);
  if (t.kind === 'finished') {
    throw new FleetError(
      'FLEET_DEPLOYMENT_FINISHED',
      `Deployment ${deploymentId} already ended (${current.status}); the board must enroll again to start over`,
      {
        deploymentId,
        status: current.status,
      },
    );
  }
  if (t.kind !== 'advance') return { deployment: current, changed: false };
  const error = phase === 'failed' ? (options.error?.slice(0, ERROR_TEXT_MAX) ?? 'failed without a reason') : null;
  const deployment = await setDeploymentStatus(tx, deploymentId, phase, error, out.now);
  await recordPhase(out, deployment);
  return { deployment, changed: true };
}

export function createEnrollmentService(deps: FleetDeps): EnrollmentService {
  return {
    async enroll(raw) {
      const input = parseEnrollInput(raw);
      return unitOfWork(deps, (tx, out) => enrollIn(tx, out, input)).catch((err: unknown) =>
        publishRefusal(deps, input, err),
      );
    },

    advance: (deploymentId, phase, options = {}) =>
      unitOfWork(deps, (tx, out) => advanceIn(tx, out, deploymentId, phase, options)),

    requestReimage: (input) =>
      unitOfWork(deps, async (tx, out) => {
        const { serial } = parseSerial(input);
        const device = await findDevice(tx, serial);
        if (!device)
          throw new FleetError('FLEET_DEVICE_UNKNOWN', `No board with serial ${serial} has been seen`, { serial });
        await setReimageRequested(tx, serial, out.now);
        await out.record('device.reimage', { serial, hostname: device.hostname }, { serial });
        return (await findDevice(tx, serial))!;
      }),
  };
}

export async function recordPhase(out: Outbox, d: Deployment): Promise<void> {
  await out.record(
    'deployment.phase',
    {
      deploymentId: d.id,
      serial: d.serial,
      hostname: d.hostname,
      venue: d.venue,
      product: d.product,
      phase: d.status,
      error: d.error,
      ip: d.ip,
    },
    { deploymentId: d.id, serial: d.serial },
  );
}

export interface Target {
  venue: string;
  product: Product;
}

/** Which venue and product a board is named for when it does not say. */
export async function resolveTarget(
  tx: Db,
  serial: string,
  venue: string | undefined,
  product: string | undefined,
): Promise<Target> {
  if (venue === undefined || product === undefined) {
    const held = (await activeAssignmentsOf(tx, serial)).find(
      (a) => (venue ?? a.venue_code) === a.venue_code && (product ?? a.product_code) === a.product_code,
    );
    const batch = held ? undefined : await topActiveBatch(tx, { ...(venue && { venue }), ...(product && { product }) });
    venue = held?.venue_code ?? batch?.venue_code;
    product = held?.product_code ?? batch?.product_code;
    if (venue === undefined || product === undefined) {
      throw new FleetError(
        'FLEET_NO_ACTIVE_BATCH',
        'No active batch says which venue and product this board is for; create and activate one: rpi-deploy batch create …, rpi-deploy batch activate ID',
        {
          serial,
        },
      );
    }
  }
  if (!(await findVenue(tx, venue))) throw unknownVenue(venue);
  const found = await findProduct(tx, product);
  if (!found) throw unknownProduct(product);
  return { venue, product: found };
}

async function assign(
  tx: Db,
  out: Outbox,
  serial: string,
  { venue, product }: Target,
): Promise<{ assignment: Assignment; reused: boolean }> {
  const existing = await findActiveAssignment(tx, serial, venue, product.code);
  if (existing) {
    await out.record(
      'hostname.assigned',
      { serial, hostname: existing.hostname, venue, product: product.code, batchId: existing.batch_id, reused: true },
      { serial },
    );
    return { assignment: existing, reused: true };
  }
  // A board moved to another venue or product gives its old name back first.
  for (const old of await activeAssignmentsOf(tx, serial)) {
    const reason = `board re-enrolled for ${venue}/${product.code}`;
    await releaseAssignment(tx, old.id, out.now, reason);
    if (old.pool_entry_id !== null) await setPoolStatus(tx, old.pool_entry_id, 'available', null, out.now);
    await out.record(
      'hostname.released',
      { hostname: old.hostname, serial, venue: old.venue_code, product: old.product_code, reason },
      { serial },
    );
  }

  const batch = await topActiveBatch(tx, { venue, product: product.code });
  let hostname: string;
  let poolEntryId: number | null = null;
  if (product.naming === 'pool') {
    const entry = await claimLowestAvailable(tx, venue, product.code, serial, out.now);
    if (!entry) {
      const [stats] = await poolStats(tx, { venue, product: product.code });
      throw new FleetError(
        'FLEET_POOL_EXHAUSTED',
        `Venue ${venue} has no free ${product.code} numbers (${stats?.assigned ?? 0} assigned, ${stats?.retired ?? 0} retired); add some: rpi-deploy pool import ${venue} --product ${product.code} --range FROM-TO`,
        { venue, product: product.code },
      );
    }
    hostname = entry.hostname;
    poolEntryId = entry.id;
    const left = await countAvailableUpTo(tx, venue, product.code, POOL_LOW_WATERMARK + 1);
    if (left <= POOL_LOW_WATERMARK) {
      out.announce('pool.warning', {
        venue,
        product: product.code,
        available: left,
        message: `Only ${left} ${product.code} number(s) left at ${venue}`,
      });
    }
  } else {
    hostname = renderHostname(product.hostnamePattern, { venue, product: product.code, serial8: serial.slice(-8) });
    const holder = await findActiveByHostname(tx, hostname);
    if (holder) {
      throw new FleetError(
        'FLEET_HOSTNAME_TAKEN',
        `${hostname} is already held by board ${holder.serial}, whose serial ends in the same 8 digits; release it with: rpi-deploy pool release ${hostname}`,
        { hostname, holder: holder.serial },
      );
    }
  }

  const assignment = await insertAssignment(tx, {
    serial,
    venue_code: venue,
    product_code: product.code,
    hostname,
    pool_entry_id: poolEntryId,
    batch_id: batch?.id ?? null,
    assigned_at: out.now,
  });
  await out.record(
    'hostname.assigned',
    { serial, hostname, venue, product: product.code, batchId: batch?.id ?? null, reused: false },
    { serial },
  );
  if (batch && (await countAssignmentsInBatch(tx, batch.id)) >= batch.expected_count) {
    await changeStatus(tx, out, { id: batch.id, venue, product: product.code }, 'completed');
  }
  return { assignment, reused: false };
}
