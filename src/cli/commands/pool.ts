import { InvalidArgumentError, type Command } from 'commander';
import { POOL_STATUSES, type PoolEntry, type PoolStatus } from '../../protocol/fleet.js';
import { formatOf, withChange, withCore } from '../context.js';
import { collect, oneOf } from '../options.js';
import { readInputFile } from '../input-file.js';
import { print, printJson, type Column } from '../output.js';
import { POOL_STATS_COLUMNS } from './venue.js';

const ENTRY_COLUMNS: Column<PoolEntry>[] = [
  { title: 'hostname', value: (e) => e.hostname },
  { title: 'number', value: (e) => e.number },
  { title: 'status', value: (e) => e.status },
  { title: 'serial', value: (e) => e.serial },
  { title: 'assigned at', value: (e) => e.assignedAt },
];

export function registerPool(pool: Command): void {
  pool
    .command('import <venue>')
    .description('add numbers to a venue’s pool; duplicates and bad entries are reported per line, the rest is added')
    .option('--product <code>', 'product the numbers are for (needed when several products use pools)')
    .option('--range <from-to>', 'a range such as 1-60 (repeatable)', collect)
    .option('--numbers <list>', 'a list such as "1,2,5,7"')
    .option('--file <path>', 'text or CSV file, one number or range per line ("-" reads standard input)')
    .option('--force', 'import the valid lines of a --file even when most of its lines are invalid')
    .option('--json', 'print JSON')
    .action(
      async (
        venue: string,
        opts: { product?: string; range?: string[]; numbers?: string; file?: string; force?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const parts = [
          ...(opts.file ? [await readInputFile(opts.file)] : []),
          ...(opts.numbers ? [opts.numbers] : []),
          ...(opts.range ?? []),
        ];
        if (parts.length === 0) throw new InvalidArgumentError('give --range, --numbers or --file');
        const text = parts.join('\n');
        // The numbers themselves, as the API's row has them: a file or standard input is gone afterwards.
        const details = { venue, product: opts.product, text };
        // Confirmation guards against the wrong file; ranges and numbers typed out are meant as given.
        const force = opts.force === true || !opts.file;
        await withChange(cmd, { action: 'pool.import', target: venue.toUpperCase(), details }, async ({ fleet }) => {
          const r = await fleet.pools.import({ venue, product: opts.product, text, force });
          if (opts.json) return printJson(r);
          process.stdout.write(
            `${r.venue}/${r.product}: added ${r.added}, duplicates ${r.duplicates}, invalid ${r.invalid}\n`,
          );
          for (const l of r.lines) {
            if (l.duplicates.length)
              process.stdout.write(`  line ${l.line}: already in the pool: ${l.duplicates.join(', ')}\n`);
            for (const e of l.errors) process.stdout.write(`  line ${l.line}: ${e}\n`);
          }
          // Entries that could not be read are an error, even when the rest went in.
          if (r.invalid > 0) {
            process.stderr.write(
              `error: ${r.invalid} invalid ${r.invalid === 1 ? 'entry was' : 'entries were'} not added (see above); correct and import ${r.invalid === 1 ? 'it' : 'them'} again\n`,
            );
            process.exitCode = 1;
          }
        });
      },
    );

  pool
    .command('list <venue>')
    .description('list a venue’s pool entries')
    .option('--product <code>', 'only this product')
    .option('--status <status>', `only ${POOL_STATUSES.join(' / ')}`, oneOf(POOL_STATUSES))
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action(
      (venue: string, opts: { product?: string; status?: PoolStatus; json?: boolean; csv?: boolean }, cmd: Command) =>
        withCore(cmd, async ({ fleet }) =>
          print(
            formatOf(opts),
            await fleet.pools.list({ venue, product: opts.product, status: opts.status }),
            ENTRY_COLUMNS,
            'The pool is empty.',
          ),
        ),
    );

  pool
    .command('stats [venue]')
    .description('available / assigned / retired counts per venue and product')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((venue: string | undefined, opts: { json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) => {
        // An unknown venue is an error here as in every other command, not an empty table.
        if (venue) await fleet.venues.get(venue);
        print(formatOf(opts), await fleet.pools.stats({ venue }), POOL_STATS_COLUMNS, 'No pools yet.');
      }),
    );

  pool
    .command('release <hostname>')
    .description('give a name back to the pool (the board that held it keeps its history)')
    .option('--json', 'print JSON')
    .action((hostname: string, opts: { json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'pool.release', target: hostname.toUpperCase() }, async ({ fleet }) => {
        const r = await fleet.pools.release(hostname);
        if (opts.json) printJson(r);
        else
          process.stdout.write(
            `${r.hostname} is available${r.releasedFrom ? ` (released from board ${r.releasedFrom})` : ''}\n`,
          );
      }),
    );

  pool
    .command('retire <hostname>')
    .description('take a number out of service')
    .option('--force', 'also release it from the board that holds it')
    .option('--json', 'print JSON')
    .action((hostname: string, opts: { force?: boolean; json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'pool.retire', target: hostname.toUpperCase() }, async ({ fleet }) => {
        const r = await fleet.pools.retire(hostname, { force: opts.force === true });
        if (opts.json) printJson(r);
        else
          process.stdout.write(
            `${r.hostname} is retired${r.releasedFrom ? ` (released from board ${r.releasedFrom})` : ''}\n`,
          );
      }),
    );
}
