import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { SILENT_LOG, streamLog } from '../../agent/index.js';
import { parseListen } from '../../config/index.js';
import { MAX_BOARDS, MAX_RUN, simulateBoards } from '../../simulate/index.js';
import { configFor } from '../context.js';
import { parseInteger } from '../options.js';
import { printJson } from '../output.js';

interface SimulateOptions {
  boards: number;
  rate?: number;
  run: number;
  server?: string;
  venue?: string;
  product?: string;
  cardGib: number;
  keepCards?: boolean;
  verbose?: boolean;
  json?: boolean;
}

const between = (min: number, max: number) => (value: string) => {
  const n = parseInteger(value);
  if (n < min || n > max) throw new InvalidArgumentError(`expected ${min}–${max}`);
  return n;
};

function parseRate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected megabytes per second above 0, e.g. 20');
  return n;
}

/** The device API as seen from this machine: a wildcard listen address is reached on loopback. */
function localUrl(listen: string): string {
  const { host, port } = parseListen(listen);
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

export function registerSimulate(command: Command): void {
  command
    .requiredOption('--boards <n>', `how many boards (1–${MAX_BOARDS})`, between(1, MAX_BOARDS))
    .option('--rate <MB/s>', 'cap each board’s write speed, like an SD card (megabytes per second, e.g. 20)', parseRate)
    .option(
      '--run <n>',
      `run number: the same run gives the same serials and MACs (0–${MAX_RUN})`,
      between(0, MAX_RUN),
      1,
    )
    .option('--server <url>', 'device API to talk to (default: from device.listen)')
    .option('--venue <code>', 'venue the boards ask for (default: the server decides, e.g. the top active batch)')
    .option('--product <code>', 'product the boards ask for (default: the server decides)')
    .option('--card-gib <n>', 'size of each simulated card in GiB, sparse', between(1, 2048), 16)
    .option('--keep-cards', 'keep the card files under <data dir>/simulate afterwards')
    .option('--verbose', 'print every board’s agent log')
    .option('--json', 'print every board’s result as JSON')
    .action(async (o: SimulateOptions, cmd: Command) => {
      const config = configFor(cmd);
      const server = o.server ?? localUrl(config.device.listen);
      const dir = join(config.dataDir, 'simulate');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const started = Date.now();
      if (!o.json)
        process.stderr.write(
          `Simulating ${o.boards} board(s) against ${server}; serials 5140da7a${o.run.toString(16).padStart(4, '0')}…; cards in ${dir}\n`,
        );
      try {
        const boards = await simulateBoards({
          server,
          boards: o.boards,
          run: o.run,
          dir,
          cardBytes: o.cardGib * 2 ** 30,
          writeRateBytesPerSec: o.rate === undefined ? undefined : Math.round(o.rate * 1e6),
          venue: o.venue,
          product: o.product,
          keepCards: o.keepCards ?? false,
          log: (serial) => (o.verbose ? streamLog(process.stderr, serial) : SILENT_LOG),
          onDone: (serial, r) => {
            if (!o.json)
              process.stdout.write(
                `${serial}  ${r.hostname ?? '-'}  ${r.status}${r.message ? `: ${r.message}` : ''}  (${(r.stats.durationMs / 1000).toFixed(1)} s)\n`,
              );
          },
          signal: stop.signal,
        });
        const ok = boards.filter((b) => b.result.status === 'success').length;
        if (o.json) printJson(boards.map((b) => ({ serial: b.serial, ...b.result })));
        else
          process.stdout.write(
            `${ok} of ${boards.length} board(s) imaged successfully in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
          );
        if (ok < boards.length) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
