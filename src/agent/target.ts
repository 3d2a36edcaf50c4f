import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ifMissing } from '../lib/if-missing.js';
import { AgentError } from './errors.js';
import type { SystemRoots } from './identify.js';

/** The card (or a file standing in for one) that the agent writes. */
export interface TargetInfo {
  path: string;
  kind: 'block' | 'file';
  sizeBytes: number;
  /** `major:minor` of a block device. */
  devNumber: string | null;
}

/**
 * Looks at the target and refuses what must never be written: something missing or of the wrong
 * kind, a device that is mounted (or has a mounted partition, or backs a loop device or swap), and
 * the device the running system booted from. A regular file is a card of its current size (tests
 * and simulated boards create it with `truncate -s`).
 */
export async function inspectTarget(path: string, roots: SystemRoots): Promise<TargetInfo> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new AgentError(
      'AGENT_TARGET_MISSING',
      `Target ${path} does not exist; is the card inserted? (files must be created first, e.g. truncate -s 8G ${path})`,
      { target: path },
    );
  }
  const st = await stat(real);
  if (st.isFile()) {
    const target: TargetInfo = { path: real, kind: 'file', sizeBytes: st.size, devNumber: null };
    await refuseLoopBacking(target, roots);
    return target;
  }
  if (!st.isBlockDevice())
    throw new AgentError('AGENT_TARGET_UNSUPPORTED', `Target ${path} is neither a block device nor a regular file`, {
      target: path,
    });

  const devNumber = `${major(st.rdev)}:${minor(st.rdev)}`;
  const sysDir = await sysBlockDir(roots, devNumber);
  if (!sysDir)
    throw new AgentError(
      'AGENT_TARGET_UNSUPPORTED',
      `Target ${path} (${devNumber}) is not listed in ${roots.sys}/dev/block`,
      { target: path },
    );
  if (await exists(join(sysDir, 'partition'))) {
    throw new AgentError(
      'AGENT_TARGET_UNSUPPORTED',
      `Target ${path} is a partition; name the whole card (e.g. /dev/mmcblk0, not /dev/mmcblk0p1)`,
      { target: path },
    );
  }
  const sectors = Number(((await readFile(join(sysDir, 'size'), 'utf8').catch(ifMissing('0'))) || '0').trim());
  const target: TargetInfo = { path: real, kind: 'block', sizeBytes: sectors * 512, devNumber };
  const family = new Set([devNumber, ...(await partitionDevNumbers(sysDir))]);
  await refuseMounted(target, family, roots);
  await refuseBootDevice(target, family, roots);
  return target;
}

export function refuseTooSmall(target: TargetInfo, imageBytes: number): void {
  if (target.sizeBytes < imageBytes) {
    throw new AgentError(
      'AGENT_TARGET_TOO_SMALL',
      `Target ${target.path} holds ${target.sizeBytes} bytes but the image needs ${imageBytes}; use a larger card`,
      { target: target.path, targetBytes: target.sizeBytes, imageBytes },
    );
  }
}

/** Mount sources and swap devices are compared by device number, so any name for a device matches. */
async function refuseMounted(target: TargetInfo, family: Set<string>, roots: SystemRoots): Promise<void> {
  const mounts = (
    (await readFile(join(roots.proc, 'self/mounts'), 'utf8').catch(ifMissing(undefined))) ??
    (await readFile(join(roots.proc, 'mounts'), 'utf8').catch(ifMissing('')))
  ).split('\n');
  const swaps = (await readFile(join(roots.proc, 'swaps'), 'utf8').catch(ifMissing(''))).split('\n').slice(1);
  const sources = [
    ...mounts.map((l) => ({
      source: unescapeMount(l.split(' ')[0] ?? ''),
      where: unescapeMount(l.split(' ')[1] ?? ''),
    })),
    ...swaps.map((l) => ({ source: l.split(/\s+/)[0] ?? '', where: 'swap' })),
  ];
  for (const { source, where } of sources) {
    if (!source.startsWith('/')) continue;
    const dev = await devNumberOf(source);
    if (dev && family.has(dev)) {
      throw new AgentError(
        'AGENT_TARGET_MOUNTED',
        `Target ${target.path} is in use: ${source} is mounted on ${where}; unmount it first`,
        { target: target.path, source, where },
      );
    }
  }
}

/** The disk holding the running system's root (and /boot) must not be overwritten under it. */
async function refuseBootDevice(target: TargetInfo, family: Set<string>, roots: SystemRoots): Promise<void> {
  for (const dir of ['/', '/boot', '/boot/firmware']) {
    const st = await stat(dir).catch(ifMissing(undefined));
    if (!st) continue;
    const dev = `${major(st.dev)}:${minor(st.dev)}`;
    const sysDir = await sysBlockDir(roots, dev);
    if (!sysDir) continue;
    const disk = (await exists(join(sysDir, 'partition'))) ? await devOfDir(join(sysDir, '..')) : dev;
    if (family.has(dev) || (disk && family.has(disk))) {
      throw new AgentError(
        'AGENT_TARGET_IS_BOOT_DEVICE',
        `Target ${target.path} holds the running system (${dir}); the agent never overwrites the disk it booted from`,
        {
          target: target.path,
          mountPoint: dir,
        },
      );
    }
  }
}

async function refuseLoopBacking(target: TargetInfo, roots: SystemRoots): Promise<void> {
  const blocks = await readdir(join(roots.sys, 'block')).catch(ifMissing<string[]>([]));
  for (const name of blocks.filter((n) => n.startsWith('loop'))) {
    const backing = (
      await readFile(join(roots.sys, 'block', name, 'loop/backing_file'), 'utf8').catch(ifMissing(''))
    ).trim();
    if (backing && backing === target.path) {
      throw new AgentError(
        'AGENT_TARGET_MOUNTED',
        `Target ${target.path} backs /dev/${name}; detach it first (losetup -d /dev/${name})`,
        { target: target.path, loop: name },
      );
    }
  }
}

async function partitionDevNumbers(sysDir: string): Promise<string[]> {
  const name = basename(await realpath(sysDir));
  const entries = await readdir(sysDir).catch(ifMissing<string[]>([]));
  const out: string[] = [];
  for (const e of entries.filter((n) => n.startsWith(name))) {
    const dev = await devOfDir(join(sysDir, e));
    if (dev) out.push(dev);
  }
  return out;
}

async function sysBlockDir(roots: SystemRoots, devNumber: string): Promise<string | undefined> {
  const link = join(roots.sys, 'dev/block', devNumber);
  return (await exists(link)) ? realpath(link) : undefined;
}

async function devOfDir(dir: string): Promise<string | undefined> {
  return (await readFile(join(dir, 'dev'), 'utf8').catch(ifMissing(undefined)))?.trim();
}

async function devNumberOf(path: string): Promise<string | undefined> {
  const st = await stat(path).catch(ifMissing(undefined));
  return st?.isBlockDevice() ? `${major(st.rdev)}:${minor(st.rdev)}` : undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, ifMissing(false));
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

// Linux dev_t encoding (glibc gnu_dev_major/minor).
function major(dev: number): number {
  return Number((BigInt(dev) >> 8n) & 0xfffn) | Number((BigInt(dev) >> 32n) & ~0xfffn);
}
function minor(dev: number): number {
  return Number(BigInt(dev) & 0xffn) | Number((BigInt(dev) >> 12n) & ~0xffn);
}
