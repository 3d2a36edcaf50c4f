import { checkSchema } from '../lib/validate.js';
import { VenueInput, VenuePatch, type Venue, type VenueStats } from '../protocol/fleet.js';
import { activeAssignmentsAtVenue, releaseAssignment } from './assignments.repo.js';
import { listBatchRows, setBatchStatus } from './batches.repo.js';
import { deploymentCountsByStatus } from './deployments.repo.js';
import { FleetError, invalidInput } from './errors.js';
import { parseVenueCode } from './hostname.js';
import { poolStats } from './pools.repo.js';
import { unitOfWork, type FleetDeps } from './unit-of-work.js';
import { deleteVenue, findVenue, insertVenue, listVenues, updateVenue } from './venues.repo.js';

export interface VenueService {
  list(): Promise<Venue[]>;
  get(code: string): Promise<Venue>;
  create(input: VenueInput): Promise<Venue>;
  update(code: string, patch: VenuePatch): Promise<Venue>;
  /** Refused while boards hold names at the venue, unless `force`: then those names are released. */
  remove(code: string, options?: { force?: boolean }): Promise<{ releasedHostnames: string[] }>;
  stats(code: string): Promise<VenueStats>;
}

export function createVenueService(deps: FleetDeps): VenueService {
  const { store } = deps;

  async function get(code: string): Promise<Venue> {
    const venueCode = parseVenueCode(code);
    const venue = await findVenue(store.db, venueCode);
    if (!venue) throw unknownVenue(venueCode);
    return venue;
  }

  return {
    list: () => listVenues(store.db),
    get,

    async create(input) {
      const v = checkSchema(VenueInput, input, invalidInput);
      const code = parseVenueCode(v.code);
      return unitOfWork(deps, async (tx, out) => {
        const existing = await findVenue(tx, code);
        if (existing)
          throw new FleetError(
            'FLEET_VENUE_EXISTS',
            `Venue ${code} already exists (${existing.name}); edit it with: rpi-deploy venue edit ${code}`,
            { venue: code },
          );
        await insertVenue(tx, {
          code,
          name: v.name.trim(),
          location: v.location?.trim() || null,
          contact: v.contact?.trim() || null,
          created_at: out.now,
          updated_at: out.now,
        });
        return (await findVenue(tx, code))!;
      });
    },

    async update(code, patch) {
      const p = checkSchema(VenuePatch, patch, invalidInput);
      const venueCode = parseVenueCode(code);
      return unitOfWork(deps, async (tx, out) => {
        if (!(await findVenue(tx, venueCode))) throw unknownVenue(venueCode);
        await updateVenue(
          tx,
          venueCode,
          {
            ...(p.name !== undefined && { name: p.name.trim() }),
            ...(p.location !== undefined && { location: p.location?.trim() || null }),
            ...(p.contact !== undefined && { contact: p.contact?.trim() || null }),
          },
          out.now,
        );
        return (await findVenue(tx, venueCode))!;
      });
    },

    async remove(code, options = {}) {
      const venueCode = parseVenueCode(code);
      return unitOfWork(deps, async (tx, out) => {
        if (!(await findVenue(tx, venueCode))) throw unknownVenue(venueCode);
        const held = await activeAssignmentsAtVenue(tx, venueCode);
        if (held.length > 0 && !options.force) {
          throw new FleetError(
            'FLEET_VENUE_IN_USE',
            `Venue ${venueCode} still has ${held.length} assigned hostname(s) (e.g. ${held[0]!.hostname}); release them first or delete with --force`,
            { venue: venueCode, assigned: held.length },
          );
        }
        for (const a of held) {
          await releaseAssignment(tx, a.id, out.now, 'venue deleted');
          await out.record(
            'hostname.released',
            {
              hostname: a.hostname,
              serial: a.serial,
              venue: a.venue_code,
              product: a.product_code,
              reason: 'venue deleted',
            },
            { serial: a.serial },
          );
        }
        for (const b of await listBatchRows(tx, { venue: venueCode })) {
          if (b.status === 'completed' || b.status === 'cancelled') continue;
          await setBatchStatus(tx, b.id, 'cancelled', out.now);
          await out.record('batch.status', {
            batchId: b.id,
            venue: venueCode,
            product: b.product_code,
            status: 'cancelled',
          });
        }
        await deleteVenue(tx, venueCode);
        return { releasedHostnames: held.map((a) => a.hostname) };
      });
    },

    async stats(code) {
      const venue = await get(code);
      const [pools, held, deployments] = await Promise.all([
        poolStats(store.db, { venue: venue.code }),
        activeAssignmentsAtVenue(store.db, venue.code),
        deploymentCountsByStatus(store.db, venue.code),
      ]);
      return { venue: venue.code, pools, activeAssignments: held.length, deployments };
    },
  };
}

export function unknownVenue(code: string): FleetError {
  return new FleetError(
    'FLEET_VENUE_UNKNOWN',
    `Venue ${code} does not exist; create it with: rpi-deploy venue add ${code} --name "…"`,
    { venue: code },
  );
}
