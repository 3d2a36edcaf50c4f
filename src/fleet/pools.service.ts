import type {
  PoolEntry,
  PoolImportLine,
  PoolImportResult,
  PoolRetireResult,
  PoolStats,
  PoolStatus,
  Product,
} from '../protocol/fleet.js';
import { findActiveByHostname, releaseAssignment, type Assignment } from './assignments.repo.js';
import { FleetError } from './errors.js';
import { parseProductCode, parseVenueCode, renderHostname } from './hostname.js';
import { parsePoolInput, poolInputProblem, POOL_IMPORT_MAX_NUMBERS } from './pool-input.js';
import {
  findPoolEntryByHostname,
  insertPoolEntries,
  listPoolEntries,
  poolNumbers,
  poolStats,
  setPoolStatus,
  takenHostnames,
} from './pools.repo.js';
import { findProduct, listProducts } from './products.repo.js';
import { unknownProduct } from './products.service.js';
import { unitOfWork, type FleetDeps, type Outbox } from './unit-of-work.js';
import { findVenue } from './venues.repo.js';
import { unknownVenue } from './venues.service.js';
import type { Db } from '../store/index.js';

export interface PoolImportInput {
  venue: string;
  /** Needed only when more than one product names boards from a pool. */
  product?: string | undefined;
  /** Numbers, ranges, pasted lines or CSV text (see pool-input.ts). */
  text: string;
  /** Report what an import would do without writing anything (the preview before committing). */
  dryRun?: boolean | undefined;
  /** Import the valid lines even though most lines are invalid (the operator confirmed). */
  force?: boolean | undefined;
}

export interface PoolService {
  /**
   * One transaction: every valid, new number is added; duplicates and bad entries are reported per
   * line. Input that is not text is refused; input whose lines are mostly invalid is refused unless
   * `force` (a dry run reports it in `confirm` instead).
   */
  import(input: PoolImportInput): Promise<PoolImportResult>;
  list(filter: { venue: string; product?: string | undefined; status?: PoolStatus | undefined }): Promise<PoolEntry[]>;
  stats(filter?: { venue?: string | undefined }): Promise<PoolStats[]>;
  /** Gives a name back to the pool (or un-retires it); the assignment history is kept. */
  release(hostname: string): Promise<{ hostname: string; releasedFrom: string | null }>;
  /** Takes a number out of service; refused while a board holds it unless `force`. */
  retire(hostname: string, options?: { force?: boolean }): Promise<{ hostname: string; releasedFrom: string | null }>;
  /**
   * Takes a selection of a venue's numbers out of service in one transaction. If a board holds any
   * of them, or one is not this venue's, nothing changes. Numbers already retired stay as they are.
   */
  retireMany(venue: string, hostnames: readonly string[]): Promise<PoolRetireResult>;
}

export function createPoolService(deps: FleetDeps): PoolService {
  const { store } = deps;

  async function resolvePoolProduct(db: Db, product: string | undefined): Promise<Product> {
    if (product !== undefined) {
      const code = parseProductCode(product);
      const found = await findProduct(db, code);
      if (!found) throw unknownProduct(code);
      if (found.naming !== 'pool') {
        throw new FleetError(
          'FLEET_PRODUCT_NOT_POOLED',
          `${code} names boards from their serial number (${found.hostnamePattern}); it needs no hostname pool`,
          { product: code },
        );
      }
      return found;
    }
    const pooled = (await listProducts(db)).filter((p) => p.naming === 'pool');
    if (pooled.length !== 1) {
      throw new FleetError(
        'FLEET_PRODUCT_AMBIGUOUS',
        `Say which product the numbers are for: --product ${pooled.map((p) => p.code).join(' or --product ')}`,
        {
          products: pooled.map((p) => p.code),
        },
      );
    }
    return pooled[0]!;
  }

  async function lookup(
    db: Db,
    hostname: string,
  ): Promise<{ entry?: PoolEntry; assignment?: Assignment; name: string }> {
    for (const name of new Set([hostname.trim(), hostname.trim().toUpperCase()])) {
      const [entry, assignment] = await Promise.all([
        findPoolEntryByHostname(db, name),
        findActiveByHostname(db, name),
      ]);
      if (entry || assignment) return { ...(entry && { entry }), ...(assignment && { assignment }), name };
    }
    throw new FleetError(
      'FLEET_HOSTNAME_UNKNOWN',
      `No pool entry or assigned board is named ${JSON.stringify(hostname)}`,
      { hostname },
    );
  }

  async function release(tx: Db, out: Outbox, a: Assignment, reason: string): Promise<void> {
    await releaseAssignment(tx, a.id, out.now, reason);
    await out.record(
      'hostname.released',
      { hostname: a.hostname, serial: a.serial, venue: a.venue_code, product: a.product_code, reason },
      { serial: a.serial },
    );
  }

  return {
    async import(input) {
      const venue = parseVenueCode(input.venue);
      const lines = parsePoolInput(input.text);
      const total = lines.reduce((n, l) => n + l.numbers.length, 0);
      if (total > POOL_IMPORT_MAX_NUMBERS) {
        throw new FleetError(
          'FLEET_POOL_INPUT_TOO_LARGE',
          `The input holds ${total} numbers; import at most ${POOL_IMPORT_MAX_NUMBERS} at a time`,
          { total },
        );
      }
      const problem = poolInputProblem(input.text, lines);
      if (problem?.kind === 'not-text') throw new FleetError('FLEET_POOL_INPUT_NOT_TEXT', problem.message, {});
      if (lines.length === 0)
        throw new FleetError('FLEET_INPUT_INVALID', 'Nothing to import: give numbers, ranges (1-60) or a CSV file', {});
      if (problem && !input.force && !input.dryRun) {
        throw new FleetError('FLEET_POOL_INPUT_UNCONFIRMED', problem.message, { lines: lines.length });
      }

      const result = await unitOfWork(deps, async (tx, out) => {
        if (!(await findVenue(tx, venue))) throw unknownVenue(venue);
        const product = await resolvePoolProduct(tx, input.product);
        const existing = await poolNumbers(tx, venue, product.code);
        const nameOf = new Map<number, string>();
        for (const n of lines.flatMap((l) => l.numbers)) {
          if (!existing.has(n))
            nameOf.set(n, renderHostname(product.hostnamePattern, { venue, product: product.code, number: n }));
        }
        // Another product's pattern could render the same name; names must stay unique.
        const clash = await takenHostnames(tx, [...nameOf.values()]);
        const report: PoolImportLine[] = [];
        const fresh: number[] = [];
        for (const l of lines) {
          const line: PoolImportLine = { line: l.line, text: l.text, added: [], duplicates: [], errors: [...l.errors] };
          for (const n of l.numbers) {
            if (existing.has(n)) line.duplicates.push(n);
            else if (clash.has(nameOf.get(n)!))
              line.errors.push(`${n}: the name ${nameOf.get(n)} is already used by another pool`);
            else {
              existing.add(n);
              line.added.push(n);
              fresh.push(n);
            }
          }
          report.push(line);
        }
        await insertPoolEntries(
          tx,
          fresh.map((n) => ({
            venue_code: venue,
            product_code: product.code,
            number: n,
            hostname: nameOf.get(n)!,
            status: 'available',
            created_at: out.now,
            updated_at: out.now,
          })),
        );
        const summary = {
          venue,
          product: product.code,
          added: report.reduce((n, l) => n + l.added.length, 0),
          duplicates: report.reduce((n, l) => n + l.duplicates.length, 0),
          invalid: report.reduce((n, l) => n + l.errors.length, 0),
        };
        if (input.dryRun) throw new DryRun({ ...summary, lines: report, ...(problem && { confirm: problem.message }) });
        await out.record('pool.imported', summary);
        return { ...summary, lines: report };
      }).catch((err: unknown) => {
        if (err instanceof DryRun) return err.result;
        throw err;
      });
      if (input.dryRun) return result;
      deps.log.info(
        {
          venue: result.venue,
          product: result.product,
          added: result.added,
          duplicates: result.duplicates,
          invalid: result.invalid,
        },
        'pool import',
      );
      return result;
    },

    async list(filter) {
      const venue = parseVenueCode(filter.venue);
      if (!(await findVenue(store.db, venue))) throw unknownVenue(venue);
      return listPoolEntries(store.db, {
        venue,
        ...(filter.product && { product: parseProductCode(filter.product) }),
        ...(filter.status && { status: filter.status }),
      });
    },

    stats: (filter = {}) => poolStats(store.db, filter.venue ? { venue: parseVenueCode(filter.venue) } : {}),

    release: (hostname) =>
      unitOfWork(deps, async (tx, out) => {
        const { entry, assignment, name } = await lookup(tx, hostname);
        if (assignment) await release(tx, out, assignment, 'released by operator');
        if (entry && entry.status !== 'available') await setPoolStatus(tx, entry.id, 'available', null, out.now);
        return { hostname: name, releasedFrom: assignment?.serial ?? null };
      }),

    retire: (hostname, options = {}) =>
      unitOfWork(deps, async (tx, out) => {
        const { entry, assignment, name } = await lookup(tx, hostname);
        if (!entry)
          throw new FleetError(
            'FLEET_PRODUCT_NOT_POOLED',
            `${name} comes from a board serial, not a pool; release it instead`,
            { hostname: name },
          );
        if (assignment && !options.force) {
          throw new FleetError(
            'FLEET_HOSTNAME_ASSIGNED',
            `${name} is held by board ${assignment.serial}; release it first or retire with --force`,
            {
              hostname: name,
              serial: assignment.serial,
            },
          );
        }
        if (assignment) await release(tx, out, assignment, 'retired by operator');
        await setPoolStatus(tx, entry.id, 'retired', null, out.now);
        return { hostname: name, releasedFrom: assignment?.serial ?? null };
      }),

    retireMany: (venueCode, hostnames) =>
      unitOfWork(deps, async (tx, out) => {
        const venue = parseVenueCode(venueCode);
        if (!(await findVenue(tx, venue))) throw unknownVenue(venue);
        const found: Awaited<ReturnType<typeof lookup>>[] = [];
        for (const hostname of new Set(hostnames)) found.push(await lookup(tx, hostname));
        const entries = found.flatMap((f) => (f.entry?.venue === venue ? [f.entry] : []));
        const elsewhere = found.filter((f) => f.entry?.venue !== venue).map((f) => f.name);
        if (elsewhere.length > 0)
          throw new FleetError(
            'FLEET_HOSTNAME_UNKNOWN',
            `${listOf(elsewhere)} ${elsewhere.length === 1 ? 'is' : 'are'} not in ${venue}'s pool; nothing was retired`,
            { venue, hostnames: elsewhere },
          );
        const held = found.flatMap((f) => (f.assignment ? [{ hostname: f.name, serial: f.assignment.serial }] : []));
        if (held.length > 0)
          throw new FleetError(
            'FLEET_HOSTNAME_ASSIGNED',
            `${listOf(held.map((h) => `${h.hostname} (board ${h.serial})`))} ${held.length === 1 ? 'is' : 'are'} ` +
              'held by a board; nothing was retired: release them first or leave them out of the selection',
            { venue, hostnames: held.map((h) => h.hostname) },
          );
        const retired: string[] = [];
        const alreadyRetired: string[] = [];
        for (const entry of entries) {
          if (entry.status === 'retired') alreadyRetired.push(entry.hostname);
          else {
            await setPoolStatus(tx, entry.id, 'retired', null, out.now);
            retired.push(entry.hostname);
          }
        }
        return { venue, retired, alreadyRetired };
      }),
  };
}

/** Names for a message: the first few, then how many more. */
function listOf(names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** Thrown inside a dry-run import so its transaction rolls back; carries the report out. */
class DryRun extends Error {
  constructor(readonly result: PoolImportResult) {
    super('dry run');
  }
}
