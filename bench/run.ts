/**
 * Runs the benchmarks and prints their figures. `npm run bench` runs all; `npm run bench -- NAME`
 * runs one. Benchmarks measure; they never fail a build.
 */
import { benchAssign } from './assign.js';
import { benchImport } from './import.js';
import { benchServe } from './serve.js';
import { benchWrite } from './write.js';

const BENCHES: Record<string, () => Promise<string[]>> = {
  assign: benchAssign,
  import: benchImport,
  write: benchWrite,
  serve: benchServe,
};

const wanted = process.argv.slice(2);
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`== ${name}\n`);
  for (const line of await bench()) process.stdout.write(`${line}\n`);
}
