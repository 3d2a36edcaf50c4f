/**
 * Runs the benchmarks and prints their figures. `npm run bench` runs all; `npm run bench -- NAME`
 * runs one; options after the names (`npm run bench -- fleet --boards 1,5`) go to the benches
 * named. Benchmarks measure; they never fail a build.
 */
import { benchAssign } from './assign.js';
import { benchDelta } from './delta.js';
import { benchCapture } from './capture.js';
import { benchCli } from './cli.js';
import { benchDhcpBurst } from './dhcp-burst.js';
import { benchFleet } from './fleet.js';
import { benchImport, benchImportLarge } from './import.js';
import { benchIsolation } from './isolation.js';
import { benchLifecycleLarge } from './lifecycle.js';
import { benchLive } from './live.js';
import { benchServe } from './serve.js';
import { benchTftp } from './tftp.js';
import { benchUiLive } from './ui-live.js';
import { benchWrite } from './write.js';

const BENCHES: Record<string, (args: string[]) => Promise<string[]>> = {
  assign: benchAssign,
  delta: benchDelta,
  capture: benchCapture,
  cli: benchCli,
  'dhcp-burst': benchDhcpBurst,
  fleet: benchFleet,
  import: benchImport,
  'import-large': benchImportLarge,
  isolation: benchIsolation,
  'lifecycle-large': benchLifecycleLarge,
  live: benchLive,
  serve: benchServe,
  tftp: benchTftp,
  'ui-live': benchUiLive,
  write: benchWrite,
};

const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('--'));
const wanted = firstOption === -1 ? argv : argv.slice(0, firstOption);
const options = firstOption === -1 ? [] : argv.slice(firstOption);
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`== ${name}\n`);
  for (const line of await bench(options)) process.stdout.write(`${line}\n`);
}
