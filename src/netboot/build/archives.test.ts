import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp-dir.js';
import { encodeCpio } from './cpio.js';
import { tarHeader, writeTar } from './tar.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir('rpi-deploy-archive-')));
afterEach(() => dir.remove());

const sh = (cmd: string, input?: Buffer) => {
  const r = spawnSync('sh', ['-c', cmd], { cwd: dir.path, input, encoding: 'buffer' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.toString()}`);
  return r.stdout.toString();
};

describe('cpio (newc)', () => {
  it('encodes a file entry byte for byte', () => {
    const bytes = encodeCpio([{ path: 'init', type: 'file', data: Buffer.from('hi\n'), mode: 0o755 }]);
    const head = (ino: number, mode: number, nlink: number, size: number, namesize: number) =>
      `070701${[ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesize, 0].map((n) => n.toString(16).padStart(8, '0')).join('')}`;
    // 110-byte header + "init\0" = 115 → padded to 116; data 3 → padded to 4.
    const want = Buffer.concat([
      Buffer.from(head(1, 0o100755, 1, 3, 5)),
      Buffer.from('init\0'),
      Buffer.alloc(1),
      Buffer.from('hi\n'),
      Buffer.alloc(1),
      Buffer.from(head(0, 0, 1, 0, 11)),
      Buffer.from('TRAILER!!!\0'),
      Buffer.alloc(3),
    ]);
    expect(bytes.toString('hex')).toBe(want.toString('hex'));
    expect(bytes.length % 4).toBe(0);
  });

  it('is read back by GNU cpio: files, modes, directories, symlinks and the console device', () => {
    const archive = encodeCpio([
      { path: 'bin', type: 'dir' },
      { path: 'bin/busybox', type: 'file', data: Buffer.from('BUSYBOX'), mode: 0o755 },
      { path: 'bin/sh', type: 'symlink', target: 'busybox' },
      { path: 'dev', type: 'dir' },
      { path: 'dev/console', type: 'char', major: 5, minor: 1 },
      { path: 'etc', type: 'dir' },
      { path: 'etc/a-name-of-odd-length.txt', type: 'file', data: Buffer.alloc(1001, 7) },
    ]);
    const listing = sh('cpio -itv --quiet', archive);
    expect(listing).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/m);
    sh('cpio -id --quiet --no-absolute-filenames --nonmatching "dev/*"', archive);
    expect(readFileSync(join(dir.path, 'bin/busybox'), 'utf8')).toBe('BUSYBOX');
    expect(statSync(join(dir.path, 'bin/busybox')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(dir.path, 'bin/sh'))).toBe('busybox');
    expect(readFileSync(join(dir.path, 'etc/a-name-of-odd-length.txt'))).toEqual(Buffer.alloc(1001, 7));
  });
});

describe('tar (ustar)', () => {
  it('writes a header whose checksum and fields GNU tar accepts', () => {
    const h = tarHeader({ path: 'usr/bin/node', type: 'file', mode: 0o755, size: 10 });
    expect(h.length).toBe(512);
    expect(h.toString('latin1', 257, 263)).toBe('ustar\0');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    expect(parseInt(h.toString('latin1', 148, 154), 8)).toBe(sum);
  });

  it.each(['tar', 'busybox tar'])('is extracted by %s with every byte, mode and link', async (tool) => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    writeFileSync(join(dir.path, 'big.bin'), big);
    const longDir = `opt/${'deep-directory-name/'.repeat(6)}end`;
    const out = join(dir.path, 'bundle.tar');
    const { sizeBytes, sha256 } = await writeTar(out, [
      { path: 'lib', type: 'dir' },
      { path: 'lib/aarch64-linux-gnu', type: 'dir' },
      { path: 'lib/aarch64-linux-gnu/libc.so.6', type: 'file', data: Buffer.from('LIBC'), mode: 0o644 },
      { path: 'lib/ld-linux-aarch64.so.1', type: 'symlink', target: 'aarch64-linux-gnu/libc.so.6' },
      { path: 'usr', type: 'dir' },
      { path: 'usr/bin', type: 'dir' },
      { path: 'usr/bin/node', type: 'file', source: join(dir.path, 'big.bin'), mode: 0o755 },
      { path: 'opt', type: 'dir' },
      { path: longDir, type: 'dir' },
      { path: `${longDir}/agent.mjs`, type: 'file', data: Buffer.from('console.log(1)') },
    ]);
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(sizeBytes);
    expect(sha256).toBe(sh(`sha256sum ${out}`).split(' ')[0]);
    mkdirSync(join(dir.path, 'x'));
    sh(`${tool} -xf ${out} -C x`);
    expect(readFileSync(join(dir.path, 'x/usr/bin/node')).equals(big)).toBe(true);
    expect(statSync(join(dir.path, 'x/usr/bin/node')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(dir.path, 'x/lib/ld-linux-aarch64.so.1'))).toBe('aarch64-linux-gnu/libc.so.6');
    expect(readFileSync(join(dir.path, `x/${longDir}/agent.mjs`), 'utf8')).toBe('console.log(1)');
  });
});
