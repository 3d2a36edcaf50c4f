import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDiff } from '../../src/protocol/image-diff.js';
import { buildPiImage, pseudoRandomBytes, type PiImage } from '../helpers/pi-image.js';
import { openTestCore } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Two real versions of an image: 1.1.0 is 1.0.0 with a few files changed the ways an upgrade
 * changes them (a file rewritten, a new file, a file changed in place, a file removed: its data
 * blocks stay as they were, only its inode and directory entry change), made with debugfs on the
 * ext4 root. The diff names exactly those files, and its chunk figures match the manifests.
 */
let dir: ReturnType<typeof tempDir>;
let core: Awaited<ReturnType<typeof openTestCore>>;
let v1: PiImage;
let v2Path: string;

function debugfsWrite(image: string, offset: number, commands: string[]): void {
  const file = join(dir.path, 'commands');
  writeFileSync(file, `${commands.join('\n')}\n`);
  const r = execFileSync('debugfs', ['-w', '-f', file, `${image}?offset=${offset}`], { stdio: 'pipe' });
  expect(r.toString()).not.toMatch(/error/i);
}

beforeAll(async () => {
  dir = tempDir('rpi-deploy-image-diff-');
  v1 = buildPiImage(dir.path, { seed: 'diff', payloadBytes: 6 * 1024 * 1024 });
  v2Path = join(dir.path, 'v2.img');
  copyFileSync(v1.path, v2Path);
  const hostname = join(dir.path, 'hostname');
  writeFileSync(hostname, 'kart-17\n');
  const lib = join(dir.path, 'newlib.so');
  writeFileSync(lib, pseudoRandomBytes('diff/newlib', 300 * 1024));
  debugfsWrite(v2Path, v1.root.offsetBytes, [
    'rm /etc/hostname',
    'cd /etc',
    `write ${hostname} hostname`,
    'cd /usr/lib',
    `write ${lib} newlib.so`,
    // After the writes, so that none of them reuses its freed blocks.
    'rm /usr/lib/libstandin.so',
  ]);
  // In place, as a package manager overwriting a file would: the second block of the manual.
  const blocks = execFileSync(
    'debugfs',
    ['-R', 'blocks /usr/share/doc/manual.txt', `${v2Path}?offset=${v1.root.offsetBytes}`],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
    .toString()
    .trim()
    .split(/\s+/)
    .map(Number);
  const fd = openSync(v2Path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x42), 0, 4096, v1.root.offsetBytes + blocks[1]! * 4096);
  closeSync(fd);
  core = await openTestCore();
});
afterAll(async () => {
  await core.dispose();
  dir.remove();
});

describe('image diff', () => {
  let diff: ImageDiff;
  let ids: [number, number];

  beforeAll(async () => {
    const a = await core.images.import({ path: v1.path }, { product: 'KXP2', version: '1.0.0' });
    const b = await core.images.import({ path: v2Path }, { product: 'KXP2', version: '1.1.0' });
    ids = [a.id, b.id];
    diff = await core.images.diff(a.id, b.id);
  });

  it('counts the chunks and bytes whose raw hash differs at the same offset, as the manifests say', async () => {
    const [ma, mb] = await Promise.all(ids.map((id) => core.images.manifest(id)));
    const differing = mb!.chunks.filter((c, i) => c.sha256 !== ma!.chunks[i]!.sha256);
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.length).toBeLessThan(mb!.chunks.length);
    expect(diff).toMatchObject({
      from: { id: ids[0], version: '1.0.0' },
      to: { id: ids[1], version: '1.1.0' },
      chunks: mb!.chunks.length,
      differingChunks: differing.length,
      differingBytes: differing.reduce((n, c) => n + c.sizeBytes, 0),
      differingUsedChunks: differing.filter((c) => c.used).length,
    });
  });

  it('names exactly the files whose blocks changed, and their directories', () => {
    expect(diff.partitions.map((p) => p.number)).toEqual([2]);
    const files = diff.partitions[0]!.files;
    expect(files.filter((f) => !f.endsWith('/'))).toEqual([
      '/etc/hostname',
      '/usr/lib/libstandin.so',
      '/usr/lib/newlib.so',
      '/usr/share/doc/manual.txt',
    ]);
    for (const d of files.filter((f) => f.endsWith('/'))) expect(['/etc/', '/usr/lib/', '/']).toContain(d);
    expect(diff.partitions[0]!.filesTruncated).toBe(false);
  });

  it('an image compared with itself differs in nothing', async () => {
    expect(await core.images.diff(ids[1], ids[1])).toMatchObject({
      differingChunks: 0,
      differingBytes: 0,
      partitions: [{ number: 2, files: [] }],
    });
  });

  it('finds images by PRODUCT@VERSION or id, and says which one is missing', async () => {
    expect((await core.images.resolve('kxp2@1.1.0')).id).toBe(ids[1]);
    expect((await core.images.resolve(String(ids[0]))).version).toBe('1.0.0');
    await expect(core.images.resolve('KXP2@9.9.9')).rejects.toMatchObject({
      code: 'IMAGE_UNKNOWN',
      message: expect.stringMatching(/KXP2 has no image 9\.9\.9/),
    });
  });
});
