import type { Command } from 'commander';
import { openCore } from '../../app.js';
import { createLogger } from '../../lib/logger.js';
import { runDoctor } from '../../operations/index.js';
import type { DoctorReport } from '../../protocol/doctor.js';
import { configFor } from '../context.js';
import { cliCommand } from '../invocation.js';
import { printJson } from '../output.js';

const WIDTH = 15;

function printReport(report: DoctorReport): void {
  for (const c of report.checks) {
    process.stdout.write(`${c.status.toUpperCase().padEnd(4)}  ${c.id.padEnd(WIDTH)} ${c.summary}\n`);
    if (c.fix) process.stdout.write(`${' '.repeat(6 + WIDTH)} → ${c.fix}\n`);
  }
  const count = (s: string) => report.checks.filter((c) => c.status === s).length;
  const verdict = {
    pass: 'ready for boards',
    warn: 'ready, but read the warnings',
    fail: 'fix the failures before plugging in boards',
  }[report.status];
  const warnings = count('warn') === 1 ? '1 warning' : `${count('warn')} warnings`;
  process.stdout.write(`\n${count('pass')} passed, ${warnings}, ${count('fail')} failed: ${verdict}\n`);
}

export function registerDoctor(command: Command): void {
  command
    .option('--json', 'print the report as JSON')
    .option('--no-probe', 'do not send a DHCP DISCOVER to look for other DHCP servers')
    .action(async (opts: { json?: boolean; probe: boolean }, cmd: Command) => {
      const report = await runDoctor({
        config: () => configFor(cmd),
        data: async (config) => {
          const core = await openCore(config, createLogger('warn'));
          return { fleet: core.fleet, images: core.images, close: () => core.close() };
        },
        probe: opts.probe,
        serving: false,
        cli: cliCommand(),
      });
      if (opts.json) printJson(report);
      else printReport(report);
      if (report.status === 'fail') process.exitCode = 1;
    });
}
