import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Downloads survive between runs here, outside the clone: `RPI_TEST_CACHE_DIR` or
 * ~/.cache/rpi-deploy-test (scripts/fetch-node-runtime.mjs puts the boards' Node here by the same rule).
 */
export function testCacheDir(): string {
  const dir =
    process.env['RPI_TEST_CACHE_DIR'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'rpi-deploy-test');
  mkdirSync(dir, { recursive: true });
  return dir;
}
