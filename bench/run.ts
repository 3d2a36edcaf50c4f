/**
 * Runs the benchmarks and prints their figures. `npm run bench` runs all; `npm run bench -- NAME`
 * runs one. Benchmarks measure; they never fail a build.
 */
import { benchAssign } from './assign.js';
import { benchDhcpBurst } from './dhcp-burst.js';
import { benchImport } from './import.js';
import { benchIsolation } from './isolation.js';
import { benchLive } from './live.js';
import { benchServe } from './serve.js';
import { benchTftp } from './tftp.js';
import { benchUiLive } from './ui-live.js';
import { benchWrite } from './write.js';

const BENCHES: Record<string, () => Promise<string[]>> = {
  assign: benchAssign,
  'dhcp-burst': benchDhcpBurst,
  import: benchImport,
  isolation: benchIsolation,
  live: benchLive,
  serve: benchServe,
  tftp: benchTftp,
  'ui-live': benchUiLive,
  write: benchWrite,
};

const wanted = process.argv.slice(2);
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`== ${name}\n`);
  for (const line of await bench()) process.stdout.write(`${line}\n`);
}
