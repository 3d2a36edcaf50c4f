import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { startServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

// Probe 7 of issue 12: the database (password hashes, Wi-Fi PSKs) was 0644 in a 0755 directory.

const base = tempDir('rpi-deploy-modes-');
const dataDir = join(base.path, 'data');
let pi: PiImage;

beforeAll(() => {
  pi = buildPiImage(base.path, { seed: 'modes' });
});
afterAll(() => base.remove());

/** Every directory and file under `root` (itself included), with its permission bits. */
function modes(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (path: string) => {
    const st = lstatSync(path);
    out.set(relative(root, path) || '.', st.mode & 0o777);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return out;
}

/** What is not 0700 (directories) or 0600 (files), as `path mode` lines; empty when all is private. */
function exposed(root: string): string[] {
  return [...modes(root)]
    .filter(([path, mode]) => mode !== (lstatSync(join(root, path)).isDirectory() ? 0o700 : 0o600))
    .map(([path, mode]) => `${path} ${mode.toString(8)}`);
}

describe('the data directory', () => {
  it('is created 0700, with the database, its WAL and SHM and the image store files 0600', async () => {
    const server = await startServer({ flags: { dataDir } });
    try {
      await server.app.images.import({ path: pi.path }, { product: 'KXP2', version: '1', activate: true });
      const names = [...modes(dataDir).keys()];
      expect(names).toEqual(expect.arrayContaining(['rpi-deploy.db', 'rpi-deploy.db-wal', 'rpi-deploy.db-shm']));
      expect(names.some((n) => n.startsWith('images/chunks/') && n.endsWith('.zst'))).toBe(true);
      expect(names.some((n) => n.startsWith('images/manifests/'))).toBe(true);
      expect(exposed(dataDir)).toEqual([]);
    } finally {
      await server.app.stop();
    }
  });

  it('made world-readable (0755 directories, 0644 files) is private again after a start', async () => {
    for (const [path] of modes(dataDir)) {
      const full = join(dataDir, path);
      chmodSync(full, lstatSync(full).isDirectory() ? 0o755 : 0o644);
    }
    expect(exposed(dataDir).length).toBeGreaterThan(3);
    const server = await startServer({ flags: { dataDir } });
    try {
      expect(exposed(dataDir)).toEqual([]);
    } finally {
      await server.app.stop();
    }
  });
});
