import type { Command } from 'commander';
import type { PoolStats, Venue } from '../../protocol/fleet.js';
import { formatOf, withChange, withCore } from '../context.js';
import { cliCommand } from '../invocation.js';
import { print, printJson, type Column } from '../output.js';

const VENUE_COLUMNS: Column<Venue>[] = [
  { title: 'code', value: (v) => v.code },
  { title: 'name', value: (v) => v.name },
  { title: 'location', value: (v) => v.location },
  { title: 'contact', value: (v) => v.contact },
];

export const POOL_STATS_COLUMNS: Column<PoolStats>[] = [
  { title: 'venue', value: (s) => s.venue },
  { title: 'product', value: (s) => s.product },
  { title: 'available', value: (s) => s.available },
  { title: 'assigned', value: (s) => s.assigned },
  { title: 'retired', value: (s) => s.retired },
  { title: 'total', value: (s) => s.total },
];

interface VenueFields {
  name?: string;
  location?: string;
  contact?: string;
  json?: boolean;
}

export function registerVenue(venue: Command): void {
  venue
    .command('list')
    .description('list venues')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) =>
        print(
          formatOf(opts),
          await fleet.venues.list(),
          VENUE_COLUMNS,
          `No venues yet: ${cliCommand()} venue add CODE --name "…"`,
        ),
      ),
    );

  venue
    .command('add <code>')
    .description('create a venue')
    .requiredOption('--name <name>', 'venue name, e.g. "Corona Karting"')
    .option('--location <text>', 'where it is')
    .option('--contact <text>', 'who to call')
    .option('--json', 'print JSON')
    .action((code: string, opts: VenueFields, cmd: Command) =>
      withChange(cmd, { action: 'venue.create', target: code.toUpperCase() }, async ({ fleet }) => {
        const v = await fleet.venues.create({
          code,
          name: opts.name!,
          location: opts.location ?? null,
          contact: opts.contact ?? null,
        });
        if (opts.json) printJson(v);
        else process.stdout.write(`Created venue ${v.code} (${v.name})\n`);
      }),
    );

  venue
    .command('edit <code>')
    .description('change a venue’s name, location or contact')
    .option('--name <name>', 'new name')
    .option('--location <text>', 'new location ("" clears it)')
    .option('--contact <text>', 'new contact ("" clears it)')
    .option('--json', 'print JSON')
    .action((code: string, opts: VenueFields, cmd: Command) =>
      withChange(cmd, { action: 'venue.update', target: code.toUpperCase() }, async ({ fleet }) => {
        const v = await fleet.venues.update(code, {
          ...(opts.name !== undefined && { name: opts.name }),
          ...(opts.location !== undefined && { location: opts.location }),
          ...(opts.contact !== undefined && { contact: opts.contact }),
        });
        if (opts.json) printJson(v);
        else process.stdout.write(`Updated venue ${v.code}\n`);
      }),
    );

  venue
    .command('delete <code>')
    .description('delete a venue and its pool; history is kept')
    .option('--force', 'also release the hostnames boards hold there')
    .option('--json', 'print JSON')
    .action((code: string, opts: { force?: boolean; json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'venue.delete', target: code.toUpperCase() }, async ({ fleet }) => {
        const r = await fleet.venues.remove(code, { force: opts.force === true });
        if (opts.json) printJson(r);
        else
          process.stdout.write(
            `Deleted venue ${code.toUpperCase()}${r.releasedHostnames.length ? `; released ${r.releasedHostnames.join(', ')}` : ''}\n`,
          );
      }),
    );

  venue
    .command('show <code>')
    .description('a venue with its pool statistics and deployment counts')
    .option('--json', 'print JSON')
    .action((code: string, opts: { json?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) => {
        const [v, stats] = await Promise.all([fleet.venues.get(code), fleet.venues.stats(code)]);
        if (opts.json) return printJson({ ...v, stats });
        process.stdout.write(
          `${v.code}  ${v.name}${v.location ? `, ${v.location}` : ''}${v.contact ? ` (${v.contact})` : ''}\n\n`,
        );
        print(
          'table',
          stats.pools,
          POOL_STATS_COLUMNS,
          'No hostname pool (serial-named products such as RXP2 need none).',
        );
        const counts = Object.entries(stats.deployments).map(([s, n]) => `${s} ${n}`);
        process.stdout.write(
          `\nBoards holding a name: ${stats.activeAssignments}\nDeployments: ${counts.length ? counts.join(', ') : 'none'}\n`,
        );
      }),
    );
}
