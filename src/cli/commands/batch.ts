import type { Command } from 'commander';
import type { BatchAction } from '../../fleet/index.js';
import { BATCH_STATUSES, type Batch, type BatchStatus } from '../../protocol/fleet.js';
import { formatOf, withChange, withCore } from '../context.js';
import { oneOf, parseInteger } from '../options.js';
import { print, printJson, type Column } from '../output.js';

const BATCH_COLUMNS: Column<Batch>[] = [
  { title: 'id', value: (b) => b.id },
  { title: 'venue', value: (b) => b.venue },
  { title: 'product', value: (b) => b.product },
  { title: 'name', value: (b) => b.name },
  { title: 'status', value: (b) => b.status },
  { title: 'priority', value: (b) => b.priority },
  { title: 'assigned', value: (b) => `${b.assigned}/${b.expectedCount}` },
  { title: 'succeeded', value: (b) => b.succeeded },
  { title: 'failed', value: (b) => b.failed },
  { title: 'created', value: (b) => b.createdAt },
];

function printBatch(b: Batch, json: boolean | undefined, verb: string): void {
  if (json) printJson(b);
  else
    process.stdout.write(
      `Batch ${b.id} (${b.venue}/${b.product}${b.name ? `, ${b.name}` : ''}) ${verb}: ${b.status}, ${b.assigned}/${b.expectedCount} assigned, ${b.succeeded} succeeded, ${b.failed} failed\n`,
    );
}

export function registerBatch(batch: Command): void {
  batch
    .command('list')
    .description('list batches with their progress')
    .option('--venue <code>', 'only this venue')
    .option('--status <status>', `only ${BATCH_STATUSES.join(' / ')}`, oneOf(BATCH_STATUSES))
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { venue?: string; status?: BatchStatus; json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) =>
        print(
          formatOf(opts),
          await fleet.batches.list({ venue: opts.venue, status: opts.status }),
          BATCH_COLUMNS,
          'No batches.',
        ),
      ),
    );

  batch
    .command('create')
    .description('open a batch (pending until activated)')
    .requiredOption('--venue <code>', 'venue code')
    .requiredOption('--product <code>', 'product code')
    .requiredOption('--count <n>', 'how many boards', parseInteger)
    .option('--priority <n>', 'higher goes first (default 0)', parseInteger)
    .option('--name <name>', 'a label, e.g. "Opening day"')
    .option('--activate', 'activate it at once')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          venue: string;
          product: string;
          count: number;
          priority?: number;
          name?: string;
          activate?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        await withChange(cmd, { action: 'batch.create', target: (b: Batch) => String(b.id) }, async ({ fleet }) => {
          let b = await fleet.batches.create({
            venue: opts.venue,
            product: opts.product,
            expectedCount: opts.count,
            priority: opts.priority ?? 0,
            name: opts.name ?? null,
          });
          if (opts.activate) b = await fleet.batches.apply(b.id, 'activate');
          printBatch(b, opts.json, 'created');
          return b;
        });
      },
    );

  batch
    .command('show <id>')
    .description('one batch and its progress')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) => printBatch(await fleet.batches.get(parseInteger(id)), opts.json, 'is')),
    );

  const actions: [BatchAction, string][] = [
    ['activate', 'start naming boards from this batch'],
    ['pause', 'stop naming boards from this batch for now'],
    ['cancel', 'end this batch for good'],
  ];
  for (const [action, description] of actions) {
    batch
      .command(`${action} <id>`)
      .description(description)
      .option('--json', 'print JSON')
      .action((id: string, opts: { json?: boolean }, cmd: Command) =>
        withChange(cmd, { action: `batch.${action}`, target: id }, async ({ fleet }) =>
          printBatch(await fleet.batches.apply(parseInteger(id), action), opts.json, 'now'),
        ),
      );
  }
}
