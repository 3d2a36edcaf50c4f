import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferDevice } from '../fat/index.js';
import { readExt4 } from './ext4-used.js';

/**
 * Used blocks from the bitmaps, checked against e2fsprogs itself: for filesystems made by
 * mkfs.ext4 with each layout option that matters, the blocks we call used are exactly those
 * dumpe2fs does not list as free.
 */
const dir = mkdtempSync(join(tmpdir(), 'ext4-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tree = join(dir, 'tree');
mkdirSync(join(tree, 'usr/lib'), { recursive: true });
writeFileSync(join(tree, 'usr/lib/big.bin'), Buffer.alloc(3_000_000, 0x5a));
writeFileSync(join(tree, 'hostname'), 'raspberrypi\n');

function makeFs(name: string, sizeMiB: number, options: string[]): Buffer {
  const path = join(dir, `${name}.img`);
  rmSync(path, { force: true });
  execFileSync('truncate', ['-s', `${sizeMiB}M`, path]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, ...options, path], { stdio: 'pipe' });
  return readFileSync(path);
}

/** Blocks dumpe2fs reports as free, and the block size. */
function freeBlocks(fs: Buffer): { free: Set<number>; blockBytes: number; blocks: number } {
  const path = join(dir, 'probe.img');
  writeFileSync(path, fs);
  const out = execFileSync('dumpe2fs', [path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const blockBytes = Number(/^Block size:\s+(\d+)/m.exec(out)![1]);
  // With bigalloc a range runs from the first block of its first cluster to the first block of its last.
  const clusterBlocks = Number(/^Cluster size:\s+(\d+)/m.exec(out)?.[1] ?? blockBytes) / blockBytes;
  const free = new Set<number>();
  for (const m of out.matchAll(/^\s+Free blocks: (.*)$/gm)) {
    for (const part of m[1]!.split(', ').filter(Boolean)) {
      const [a, b] = part.split('-').map(Number);
      for (let n = a!; n < (b ?? a!) + clusterBlocks; n++) free.add(n);
    }
  }
  return { free, blockBytes, blocks: Number(/^Block count:\s+(\d+)/m.exec(out)![1]) };
}

describe('ext4 used blocks', () => {
  it.each([
    ['default 4 KiB blocks, several groups (flex_bg, 64bit, metadata_csum)', 64, ['-b', '4096', '-g', '4096']],
    ['1 KiB blocks', 32, ['-b', '1024']],
    ['without flex_bg', 64, ['-b', '4096', '-g', '4096', '-O', '^flex_bg']],
    ['32-bit descriptors', 64, ['-b', '4096', '-g', '4096', '-O', '^64bit']],
    ['no checksums (BLOCK_UNINIT not trusted)', 64, ['-b', '4096', '-g', '4096', '-O', '^metadata_csum,^uninit_bg']],
    ['uninit_bg instead of metadata_csum', 64, ['-b', '4096', '-g', '4096', '-O', '^metadata_csum,uninit_bg']],
    ['no sparse_super', 64, ['-b', '4096', '-g', '4096', '-O', '^sparse_super,^resize_inode']],
    ['sparse_super2', 64, ['-b', '4096', '-g', '4096', '-O', 'sparse_super2']],
    ['bigalloc (16 KiB clusters)', 64, ['-b', '4096', '-O', 'bigalloc', '-C', '16384']],
    ['ext2', 32, ['-t', 'ext2', '-b', '4096', '-g', '4096']],
  ])('%s: used = not free per dumpe2fs', async (_case, sizeMiB, options) => {
    const fs = makeFs('fs', sizeMiB, options);
    const info = await readExt4(bufferDevice(fs));
    expect(info?.usedRanges).not.toBeNull();
    const { free, blockBytes, blocks } = freeBlocks(fs);
    const used = new Set<number>();
    for (const r of info!.usedRanges!)
      for (let b = r.offsetBytes / blockBytes; b < (r.offsetBytes + r.lengthBytes) / blockBytes; b++) used.add(b);
    const notFree = Array.from({ length: blocks }, (_, b) => b).filter((b) => !free.has(b));
    expect([...used].sort((a, b) => a - b)).toEqual(notFree);
    expect(notFree.length).toBeGreaterThan(3_000_000 / blockBytes);
  });

  it('reads the label', async () => {
    expect((await readExt4(bufferDevice(makeFs('label', 16, ['-L', 'rootfs']))))?.label).toBe('rootfs');
  });

  it.each([
    [
      'a journal that still needs replaying',
      (fs: Buffer) => fs.writeUInt32LE(fs.readUInt32LE(1024 + 0x60) | 0x4, 1024 + 0x60),
    ],
    ['meta_bg', (fs: Buffer) => fs.writeUInt32LE(fs.readUInt32LE(1024 + 0x60) | 0x10, 1024 + 0x60)],
    ['a block size it cannot have', (fs: Buffer) => fs.writeUInt32LE(9, 1024 + 0x18)],
    ['a bitmap pointing past the end', (fs: Buffer) => fs.writeUInt32LE(0x7fffffff, 4096)],
  ])('counts everything as used for %s', async (_case, damage) => {
    const fs = makeFs('damaged', 16, ['-b', '4096']);
    damage(fs);
    expect((await readExt4(bufferDevice(fs)))?.usedRanges).toBeNull();
  });

  it('is not fooled by something else', async () => {
    expect(await readExt4(bufferDevice(Buffer.alloc(1024 * 1024)))).toBeNull();
  });
});
