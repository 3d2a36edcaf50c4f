import type { Command } from 'commander';
import type { Device } from '../../protocol/fleet.js';
import { formatOf, withChange, withCore } from '../context.js';
import { parseInteger } from '../options.js';
import { print, printJson, printTable, type Column } from '../output.js';
import { DEPLOYMENT_COLUMNS } from '../../protocol/deployment-columns.js';

const DEVICE_COLUMNS: Column<Device>[] = [
  { title: 'serial', value: (d) => d.serial },
  { title: 'hostname', value: (d) => d.hostname },
  { title: 'model', value: (d) => d.model },
  { title: 'macs', value: (d) => d.macs },
  { title: 'first seen', value: (d) => d.firstSeenAt },
  { title: 'last seen', value: (d) => d.lastSeenAt },
];

export function registerDevice(device: Command): void {
  device
    .command('list')
    .description('list boards, most recently seen first')
    .option('--limit <n>', 'at most this many (default 1000)', parseInteger)
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { limit?: number; json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) =>
        print(
          formatOf(opts),
          await fleet.records.devices({ limit: opts.limit ?? 1000 }),
          DEVICE_COLUMNS,
          'No boards seen yet.',
        ),
      ),
    );

  device
    .command('show <serial>')
    .description('one board and all its deployments')
    .option('--json', 'print JSON')
    .action((serial: string, opts: { json?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) => {
        const r = await fleet.records.device(serial);
        if (opts.json) return printJson(r);
        printTable([r.device], DEVICE_COLUMNS);
        process.stdout.write('\n');
        printTable(r.deployments, DEPLOYMENT_COLUMNS, 'No deployments.');
      }),
    );

  device
    .command('reimage <serial>')
    .description('image a board again: it is offered network boot once more')
    .option('--json', 'print JSON')
    .action((serial: string, opts: { json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'device.reimage', target: serial.toLowerCase() }, async ({ fleet }) => {
        const d = await fleet.enrollment.requestReimage(serial);
        if (opts.json) printJson(d);
        else
          process.stdout.write(
            `Board ${d.serial}${d.hostname ? ` (${d.hostname})` : ''} will be imaged again at its next network boot\n`,
          );
      }),
    );
}
