import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { CLI } from '../helpers/cli.js';
import { mbrSector, pseudoRandomBytes, rawDisk } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Imports interrupted the hard way: nothing half-registered, and the next start cleans up. */
let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

const open = () => openCore(loadConfig({ flags: { dataDir: dir.path } }), createLogger('silent'));
const storeDir = (...parts: string[]) => join(dir.path, 'images', ...parts);
const filesUnder = (d: string): string[] =>
  existsSync(d)
    ? readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? filesUnder(join(d, e.name)) : [join(d, e.name)],
      )
    : [];

/** A raw disk of incompressible bytes in one partition, big enough that its import takes a while. */
function bigImage(sizeMiB: number): string {
  const path = join(dir.path, 'big.img');
  const fd = openSync(path, 'w');
  for (let i = 0; i < sizeMiB / 16; i++) writeSync(fd, pseudoRandomBytes(`big-${i}`, 16 * 1024 * 1024));
  writeSync(fd, mbrSector(sizeMiB * 1024 * 1024), 0, 512, 0);
  closeSync(fd);
  return path;
}

describe('an image import killed with SIGKILL', () => {
  it('registers nothing, and the next start removes its staging files', async () => {
    const image = bigImage(256);
    await (await open()).close();
    const child = spawn(
      process.execPath,
      [CLI, 'image', 'add', image, '--product', 'KXP2', '--version', '1', '--data-dir', dir.path],
      { stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Mid-import: chunks are being written to its staging area.
    const deadline = Date.now() + 60_000;
    while (filesUnder(storeDir('staging')).length < 4 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(filesUnder(storeDir('staging')).length).toBeGreaterThanOrEqual(4);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const core = await open();
    try {
      expect(await core.images.list()).toEqual([]);
      expect(readdirSync(storeDir('staging'))).toEqual([]);
      expect(filesUnder(storeDir('chunks'))).toEqual([]);
      expect(filesUnder(storeDir('manifests'))).toEqual([]);
      // The same file imports in full afterwards.
      expect((await core.images.import({ path: image }, { product: 'KXP2', version: '1' })).sizeBytes).toBe(
        256 * 1024 * 1024,
      );
    } finally {
      await core.close();
    }
  });

  it('removes stored files whose registration never committed', async () => {
    const path = join(dir.path, 'small.img');
    const fd = openSync(path, 'w');
    writeSync(fd, rawDisk('small', 9 * 1024 * 1024));
    closeSync(fd);
    const setup = await open();
    const image = await setup.images.import({ path }, { product: 'KXP2', version: '1' });
    // As if the process died after moving its files into the store but before the commit.
    await setup.store.transaction((tx) => tx.deleteFrom('images').where('id', '=', image.id).execute());
    await setup.close();
    expect(filesUnder(storeDir('chunks')).length).toBe(3);

    const core = await open();
    try {
      expect(filesUnder(storeDir('chunks'))).toEqual([]);
      expect(filesUnder(storeDir('manifests'))).toEqual([]);
    } finally {
      await core.close();
    }
  });
});
