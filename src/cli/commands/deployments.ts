import type { Command } from 'commander';
import { DEPLOYMENT_COLUMNS } from '../../protocol/deployment-columns.js';
import { formatBytes } from '../../protocol/units.js';
import {
  DEPLOYMENT_STATUSES,
  type Deployment,
  type DeploymentStatus,
  type HistoryEntry,
} from '../../protocol/fleet.js';
import { formatOf, withCore } from '../context.js';
import { oneOf, parseInteger } from '../options.js';
import { print, printJson, printTable, type Column } from '../output.js';

/** How the card was written and checked: the plan's settings, then what the agent reported. */
function writeLine(d: Deployment): string {
  const w = d.writeStats;
  if (!w) {
    if (!d.imaging) return 'Imaging: -';
    return `Imaging: delta ${d.imaging.delta ? 'on' : 'off'}, verify ${d.imaging.verify}`;
  }
  const why = w.fullWriteReason ? ` (${w.fullWriteReason})` : '';
  return (
    `Write: ${w.mode}${why}; ${w.chunksReused} of ${w.chunksUsed} used chunks reused from the card ` +
    `(${formatBytes(w.bytesReused)}), ${w.chunksWritten} written (${formatBytes(w.bytesWritten)}); ` +
    `verify ${w.verify}, ${formatBytes(w.bytesReadFirst + w.bytesReadBack)} read from the card`
  );
}

const HISTORY_COLUMNS: Column<HistoryEntry>[] = [
  { title: 'at', value: (h) => h.at },
  { title: 'event', value: (h) => h.type },
  {
    title: 'details',
    value: (h) =>
      Object.entries(h.data)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' '),
  },
];

interface ListOptions {
  venue?: string;
  product?: string;
  status?: DeploymentStatus;
  serial?: string;
  batch?: number;
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
  json?: boolean;
  csv?: boolean;
}

export function registerDeployments(deployments: Command): void {
  deployments
    .command('list', { isDefault: true })
    .description('list deployments (the default)')
    .option('--venue <code>', 'only this venue')
    .option('--product <code>', 'only this product')
    .option('--status <status>', `only ${DEPLOYMENT_STATUSES.join(' / ')}`, oneOf(DEPLOYMENT_STATUSES))
    .option('--serial <serial>', 'only this board')
    .option('--batch <id>', 'only this batch', parseInteger)
    .option('--since <date>', 'enrolled on or after (2026-11-22 or an ISO timestamp)')
    .option('--until <date>', 'enrolled before')
    .option('--limit <n>', 'at most this many (default 100)', parseInteger)
    .option('--offset <n>', 'skip this many', parseInteger)
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (for spreadsheets)')
    .action((o: ListOptions, cmd: Command) =>
      withCore(cmd, async ({ fleet }) => {
        // An unknown venue or product is an error, as in every other command, not "no rows".
        if (o.venue) await fleet.venues.get(o.venue);
        if (o.product) await fleet.products.get(o.product);
        const rows = await fleet.records.deployments({
          ...(o.venue && { venue: o.venue }),
          ...(o.product && { product: o.product }),
          ...(o.status && { status: o.status }),
          ...(o.serial && { serial: o.serial }),
          ...(o.batch !== undefined && { batchId: o.batch }),
          ...(o.since && { since: o.since }),
          ...(o.until && { until: o.until }),
          ...(o.limit !== undefined && { limit: o.limit }),
          ...(o.offset !== undefined && { offset: o.offset }),
        });
        print(formatOf(o), rows, DEPLOYMENT_COLUMNS, 'No deployments match.');
      }),
    );

  deployments
    .command('show <id>')
    .description('one deployment with every recorded step')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) => {
        const r = await fleet.records.deployment(parseInteger(id));
        if (opts.json) return printJson(r);
        const d = r.deployment;
        process.stdout.write(
          `Deployment ${d.id}: ${d.hostname} (serial ${d.serial}), ${d.venue}/${d.product}, ${d.status}${d.error ? `: ${d.error}` : ''}\n`,
        );
        process.stdout.write(`${writeLine(d)}\n\n`);
        printTable(r.history, HISTORY_COLUMNS);
      }),
    );
}
