import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferDevice, fileDevice, openFatVolume, sliceDevice, FatError, type FatType } from './index.js';

/**
 * The reader and writer against volumes made by dosfstools and filled by mtools, then read back
 * by mtools and checked by fsck.fat: real peers, no mount (the CI kernel has no vfat).
 */
const dir = mkdtempSync(join(tmpdir(), 'fat-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd: string, args: string[], input?: Buffer) =>
  execFileSync(cmd, args, { input, env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

/** A volume made by mkfs.vfat, with files copied in by mcopy; returns the image path. */
function makeVolume(type: FatType, sizeMiB: number, files: Record<string, Buffer>, name = `fat${type}`): string {
  const img = join(dir, `${name}.img`);
  rmSync(img, { force: true });
  run('truncate', ['-s', `${sizeMiB}M`, img]);
  run('mkfs.vfat', ['-F', String(type), '-n', 'BOOTFS', ...(type === 32 ? ['-s', '1'] : []), img]);
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      try {
        run('mmd', ['-D', 's', '-i', img, `::${sub}`]);
      } catch {
        // already made for an earlier file
      }
    }
    const src = join(dir, 'src');
    writeFileSync(src, data);
    run('mcopy', ['-i', img, src, `::${path}`]);
  }
  return img;
}

const pseudoRandom = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 2654435761 + seed) >>> 24));

const FILES: Record<string, Buffer> = {
  'config.txt': Buffer.from('arm_64bit=1\nkernel=kernel_2712.img\n'),
  'cmdline.txt': Buffer.from('console=serial0,115200 root=PARTUUID=1234-02 rootwait\n'),
  'CONFIG2.TXT': Buffer.from('upper-case 8.3 name\n'),
  'a very long file name with spaces.dat': pseudoRandom(70_000, 7),
  'overlays/bcm2712d0.dtbo': pseudoRandom(3000, 1),
  'overlays/README': Buffer.from('overlays\n'),
  'user-data': Buffer.from('#cloud-config\n'),
};

async function openImage(img: string) {
  const buf = readFileSync(img);
  return { buf, volume: await openFatVolume(bufferDevice(buf)) };
}

describe('FAT reader', () => {
  it.each([
    [12, 2],
    [16, 20],
    [32, 34],
  ] as const)('FAT%i volume made by mkfs.vfat: lists, reads and maps every file', async (type, sizeMiB) => {
    const img = makeVolume(type, sizeMiB, FILES);
    const { volume } = await openImage(img);
    expect(volume.geometry.type).toBe(type);
    expect(volume.geometry.label).toBe('BOOTFS');
    const files = await volume.walk();
    expect(
      files
        .filter((f) => !f.isDirectory)
        .map((f) => f.path)
        .sort(),
    ).toEqual(Object.keys(FILES).sort());
    expect(files.find((f) => f.path === 'overlays')?.isDirectory).toBe(true);
    for (const [path, data] of Object.entries(FILES)) expect(Buffer.from(await volume.readFile(path))).toEqual(data);
    expect(Buffer.from(await volume.readFile('OVERLAYS/readme'))).toEqual(FILES['overlays/README']);
    expect(await volume.stat('missing.txt')).toBeNull();
    // Used: the metadata plus one cluster run per file (fresh volume, no fragmentation).
    const used = volume.usedRanges();
    expect(used[0]!.offsetBytes).toBe(0);
    const usedBytes = used.reduce((s, r) => s + r.lengthBytes, 0);
    const g = volume.geometry;
    expect(usedBytes).toBeLessThan(g.dataOffset + 200 * g.clusterBytes);
    expect(usedBytes).toBeGreaterThan(g.dataOffset + 70_000);
  });

  it.each([
    ['a path that climbs out', '../etc/passwd', 'FAT_PATH_INVALID'],
    ['an absolute path', '/config.txt', 'FAT_PATH_INVALID'],
    ['a NUL byte', 'config.txt\0', 'FAT_PATH_INVALID'],
    ['a backslash', 'overlays\\README', 'FAT_PATH_INVALID'],
    ['a climb hidden mid-path', 'overlays/../../config.txt', 'FAT_PATH_INVALID'],
    ['a missing file', 'nope.txt', 'FAT_NOT_FOUND'],
    ['a file used as a directory', 'config.txt/x', 'FAT_NOT_A_DIRECTORY'],
    ['a directory read as a file', 'overlays', 'FAT_IS_DIRECTORY'],
  ])('readFile refuses %s', async (_case, path, code) => {
    const { volume } = await openImage(makeVolume(16, 20, FILES, 'refuse'));
    await expect(volume.readFile(path)).rejects.toMatchObject({ code });
  });

  it.each([
    ['no boot signature', (b: Buffer) => b.writeUInt16LE(0, 510)],
    ['zero bytes per sector', (b: Buffer) => b.writeUInt16LE(0, 11)],
    ['a FAT too small for its clusters', (b: Buffer) => b.writeUInt16LE(1, 22)],
  ])('refuses a boot sector with %s', async (_case, damage) => {
    const buf = readFileSync(makeVolume(16, 20, {}, 'damaged'));
    damage(buf);
    await expect(openFatVolume(bufferDevice(buf))).rejects.toMatchObject({ code: 'FAT_NOT_FAT' });
  });

  it('readFile reports a chain that loops as corrupt, never a short file', async () => {
    const img = makeVolume(16, 20, { 'big.bin': pseudoRandom(50_000, 3) }, 'loop');
    const { buf, volume } = await openImage(img);
    const g = volume.geometry;
    // big.bin starts at cluster 3 (cluster 2 is ... whatever mcopy chose): make its 2nd link point back to its 1st.
    const entries = buf.subarray(g.rootDirOffset, g.rootDirOffset + 512);
    let first = 0;
    for (let o = 0; o < 512; o += 32)
      if (entries.subarray(o, o + 8).toString() === 'BIG     ') first = entries.readUInt16LE(o + 26);
    const second = buf.readUInt16LE(g.fatOffset + first * 2);
    buf.writeUInt16LE(first, g.fatOffset + second * 2);
    const reopened = await openFatVolume(bufferDevice(buf));
    await expect(reopened.readFile('big.bin')).rejects.toBeInstanceOf(FatError);
    await expect(reopened.readFile('big.bin')).rejects.toMatchObject({ code: 'FAT_CORRUPT' });
  });
});

describe('FAT writer', () => {
  const mtype = (img: string, path: string) => run('mtype', ['-i', img, `::${path}`]);
  const fsck = (img: string) => run('fsck.fat', ['-n', img]).toString();

  it.each([12, 16, 32] as const)(
    'FAT%i: replaces, grows, shrinks and creates files that mtools reads back and fsck.fat accepts',
    async (type) => {
      const img = makeVolume(type, type === 32 ? 34 : type === 16 ? 20 : 2, FILES, `write${type}`);
      const handle = await open(img, 'r+');
      try {
        const volume = await openFatVolume(fileDevice(handle, (await handle.stat()).size));
        const cmdline = 'console=serial0,115200 root=PARTUUID=1234-02 rootwait ds=nocloud;i=rpi-deploy-42\n';
        await volume.writeFile('cmdline.txt', Buffer.from(cmdline), { modifiedAt: new Date('2026-11-23T10:20:30Z') });
        const grown = pseudoRandom(150_000, 9);
        await volume.writeFile('config.txt', grown);
        await volume.writeFile('a very long file name with spaces.dat', Buffer.from('now short\n'));
        await volume.writeFile('meta-data', Buffer.from('instance-id: rpi-deploy-42\n'));
        await volume.writeFile('network-config', Buffer.from('version: 2\n'));
        await volume.writeFile('FIRSTRUN.SH', Buffer.from('#!/bin/bash\n'));
        await volume.writeFile('overlays/new-overlay-with-a-long-name.dtbo', pseudoRandom(5000, 2));
        await volume.writeFile('empty.txt', new Uint8Array(0));
      } finally {
        await handle.close();
      }
      expect(mtype(img, 'cmdline.txt').toString()).toContain('ds=nocloud;i=rpi-deploy-42');
      expect(mtype(img, 'config.txt')).toEqual(pseudoRandom(150_000, 9));
      expect(mtype(img, 'a very long file name with spaces.dat').toString()).toBe('now short\n');
      expect(mtype(img, 'meta-data').toString()).toBe('instance-id: rpi-deploy-42\n');
      expect(mtype(img, 'network-config').toString()).toBe('version: 2\n');
      expect(mtype(img, 'FIRSTRUN.SH').toString()).toBe('#!/bin/bash\n');
      expect(mtype(img, 'overlays/new-overlay-with-a-long-name.dtbo')).toEqual(pseudoRandom(5000, 2));
      expect(mtype(img, 'empty.txt').length).toBe(0);
      const listing = run('mdir', ['-i', img, '-a', '::']).toString();
      expect(listing).toMatch(/network-config/);
      expect(listing).toMatch(/user-data/);
      const out = join(dir, `copied${type}`);
      run('mcopy', ['-o', '-i', img, '::user-data', out]);
      expect(readFileSync(out).toString()).toBe('#cloud-config\n');
      expect(fsck(img)).not.toMatch(/wrong|mismatch|lost|invalid|differ/i);
      // The reader sees what the writer wrote, long names included.
      const { volume } = await openImage(img);
      expect((await volume.list()).map((f) => f.path)).toEqual(
        expect.arrayContaining(['meta-data', 'network-config', 'FIRSTRUN.SH', 'empty.txt']),
      );
    },
  );

  it('grows a full directory by a cluster and keeps every name', async () => {
    const img = makeVolume(32, 34, {}, 'many');
    const buf = readFileSync(img);
    const volume = await openFatVolume(bufferDevice(buf));
    const names = Array.from({ length: 40 }, (_, i) => `customisation-file-number-${i}.txt`);
    for (const name of names) await volume.writeFile(name, Buffer.from(name));
    writeFileSync(img, buf);
    expect(fsck(img)).not.toMatch(/wrong|mismatch|lost|invalid|differ/i);
    for (const name of [names[0]!, names[39]!]) expect(mtype(img, name).toString()).toBe(name);
    expect((await (await openFatVolume(bufferDevice(buf))).list()).length).toBe(40);
  });

  it('refuses a file larger than the free space and leaves the volume as it was', async () => {
    const img = makeVolume(12, 1, {}, 'full');
    const buf = readFileSync(img);
    const before = Buffer.from(buf);
    const volume = await openFatVolume(bufferDevice(buf));
    await expect(volume.writeFile('huge.bin', new Uint8Array(2 * 1024 * 1024))).rejects.toMatchObject({
      code: 'FAT_NO_SPACE',
    });
    expect(buf.equals(before)).toBe(true);
    await volume.writeFile('small.txt', Buffer.from('fits\n'));
    writeFileSync(img, buf);
    expect(mtype(img, 'small.txt').toString()).toBe('fits\n');
  });

  it('writes through a partition window of a whole disk image', async () => {
    const vol = readFileSync(makeVolume(16, 20, FILES, 'inner'));
    const disk = Buffer.alloc(vol.length + 1024 * 1024);
    vol.copy(disk, 1024 * 1024);
    const volume = await openFatVolume(sliceDevice(bufferDevice(disk), 1024 * 1024, vol.length));
    await volume.writeFile('cmdline.txt', Buffer.from('x\n'));
    const img = join(dir, 'disk.img');
    writeFileSync(img, disk);
    expect(run('mtype', ['-i', `${img}@@1M`, '::cmdline.txt']).toString()).toBe('x\n');
  });

  it('refuses to write on a read-only device', async () => {
    const buf = readFileSync(makeVolume(16, 20, FILES, 'ro'));
    const dev = bufferDevice(buf);
    const volume = await openFatVolume({ sizeBytes: dev.sizeBytes, read: dev.read });
    await expect(volume.writeFile('cmdline.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'FAT_READ_ONLY' });
  });
});
