import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REAL_ROOTS, type SystemRoots } from './identify.js';
import { inspectTarget, refuseTooSmall } from './target.js';

let dir: string;
let roots: SystemRoots;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'target-'));
  roots = { proc: join(dir, 'proc'), sys: join(dir, 'sys') };
  put('proc/self/mounts', 'proc /proc proc rw 0 0\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, content: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

/** A fake card: a device node (never opened, only stat'ed) and its sysfs entries, with one partition. */
function fakeCard(major: number, minor: number, sectors: number): string {
  const node = join(dir, 'dev/card');
  mkdirSync(dirname(node), { recursive: true });
  execFileSync('mknod', [node, 'b', String(major), String(minor)]);
  execFileSync('mknod', [`${node}p1`, 'b', String(major), String(minor + 1)]);
  const disk = join(dir, 'sys/devices/virtual/block/card');
  put('sys/devices/virtual/block/card/size', `${sectors}\n`);
  put('sys/devices/virtual/block/card/dev', `${major}:${minor}\n`);
  put('sys/devices/virtual/block/card/cardp1/dev', `${major}:${minor + 1}\n`);
  put('sys/devices/virtual/block/card/cardp1/partition', '1\n');
  mkdirSync(join(dir, 'sys/dev/block'), { recursive: true });
  symlinkSync(disk, join(dir, `sys/dev/block/${major}:${minor}`));
  symlinkSync(join(disk, 'cardp1'), join(dir, `sys/dev/block/${major}:${minor + 1}`));
  return node;
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { code?: string }) => e.code,
  );

describe('inspectTarget', () => {
  it('takes an existing file as a card of its size', async () => {
    const file = join(dir, 'card.img');
    writeFileSync(file, '');
    execFileSync('truncate', ['-s', '8M', file]);
    expect(await inspectTarget(file, roots)).toEqual({
      path: file,
      kind: 'file',
      sizeBytes: 8 * 1024 * 1024,
      devNumber: null,
    });
  });

  it('refuses a file that does not exist, and a directory', async () => {
    expect(await code(inspectTarget(join(dir, 'nope.img'), roots))).toBe('AGENT_TARGET_MISSING');
    expect(await code(inspectTarget(dir, roots))).toBe('AGENT_TARGET_UNSUPPORTED');
  });

  it('refuses a file that backs a loop device', async () => {
    const file = join(dir, 'card.img');
    writeFileSync(file, 'x');
    put('sys/block/loop3/loop/backing_file', `${file}\n`);
    expect(await code(inspectTarget(file, roots))).toBe('AGENT_TARGET_MOUNTED');
  });

  it('sizes an unmounted block device from sysfs', async () => {
    const node = fakeCard(240, 0, 62_333_952);
    expect(await inspectTarget(node, roots)).toEqual({
      path: node,
      kind: 'block',
      sizeBytes: 62_333_952 * 512,
      devNumber: '240:0',
    });
  });

  it('refuses a block device whose partition is mounted, whatever name the mount uses', async () => {
    const node = fakeCard(240, 0, 1000);
    put('proc/self/mounts', `proc /proc proc rw 0 0\n${node}p1 /media/boot\\040disk vfat rw 0 0\n`);
    const err = await inspectTarget(node, roots).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'AGENT_TARGET_MOUNTED', message: expect.stringContaining('/media/boot disk') });
  });

  it('refuses a block device when the mount table cannot be read, rather than take it for unmounted', async () => {
    const node = fakeCard(240, 0, 1000);
    rmSync(join(dir, 'proc/self/mounts'));
    mkdirSync(join(dir, 'proc/self/mounts'));
    expect(await code(inspectTarget(node, roots))).toBe('EISDIR');
  });

  it('refuses a block device used as swap', async () => {
    const node = fakeCard(240, 0, 1000);
    put('proc/swaps', `Filename\tType\tSize\tUsed\tPriority\n${node}p1\tpartition\t1000\t0\t-2\n`);
    expect(await code(inspectTarget(node, roots))).toBe('AGENT_TARGET_MOUNTED');
  });

  it('refuses a partition instead of the whole card', async () => {
    fakeCard(240, 0, 1000);
    expect(await code(inspectTarget(join(dir, 'dev/cardp1'), roots))).toBe('AGENT_TARGET_UNSUPPORTED');
  });

  it('refuses the disk the running system booted from', async () => {
    const root = statSync('/').dev;
    const major = Number((BigInt(root) >> 8n) & 0xfffn);
    const minor = Number(BigInt(root) & 0xffn);
    const node = fakeCard(major, minor, 1000);
    expect(await code(inspectTarget(node, roots))).toBe('AGENT_TARGET_IS_BOOT_DEVICE');
  });

  // The real machine: its root disk must be refused whatever the fixtures say. Only stat() is used.
  const rootDev = (() => {
    const st = statSync('/');
    const uevent = `/sys/dev/block/${Number((BigInt(st.dev) >> 8n) & 0xfffn)}:${Number(BigInt(st.dev) & 0xffn)}/uevent`;
    const name = existsSync(uevent) ? /DEVNAME=(\S+)/.exec(readFileSync(uevent, 'utf8'))?.[1] : undefined;
    return name && existsSync(`/dev/${name}`) ? `/dev/${name}` : undefined;
  })();
  it.skipIf(!rootDev)('refuses this machine’s own root device (%s)', async () => {
    expect(['AGENT_TARGET_MOUNTED', 'AGENT_TARGET_IS_BOOT_DEVICE', 'AGENT_TARGET_UNSUPPORTED']).toContain(
      await code(inspectTarget(rootDev!, REAL_ROOTS)),
    );
  });
});

describe('refuseTooSmall', () => {
  it('accepts an exact fit and refuses one byte less', () => {
    const t = { path: '/x', kind: 'file' as const, sizeBytes: 100, devNumber: null };
    expect(() => refuseTooSmall(t, 100)).not.toThrow();
    expect(() => refuseTooSmall(t, 101)).toThrow(expect.objectContaining({ code: 'AGENT_TARGET_TOO_SMALL' }));
  });
});
