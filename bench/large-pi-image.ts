/**
 * The benchmark images: Raspberry Pi OS-shaped (MBR, a FAT boot partition with cloud-init files,
 * an ext4 root full of real files from this machine's /usr; docs/benchmarks.md), built without
 * mounting and kept between runs in $RPI_DEPLOY_BENCH_DIR (default: the system temp directory).
 * `largePiImage()` is the 2.25 GiB one of the write and serve benches.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MiB = 1024 * 1024;
const BOOT_START = 4 * MiB;
/** What fills the large image's root filesystem: about 1.4 GB of libraries, binaries, documentation. */
const ROOT_SOURCES = ['/usr/lib/x86_64-linux-gnu', '/usr/share'];

export const BENCH_DIR = process.env['RPI_DEPLOY_BENCH_DIR'] ?? join(tmpdir(), 'rpi-deploy-bench');

const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

export interface BenchImage {
  path: string;
  sizeBytes: number;
  /** How full the root filesystem is (0–1). */
  rootFull: number;
}

export interface PiImageLayout {
  /** File name inside BENCH_DIR; an existing file of the right size is reused. */
  name: string;
  bootBytes: number;
  rootBytes: number;
  /** Puts the root filesystem's files into the empty directory `tree` (hard links are fine). */
  fillRoot(tree: string): void;
}

/** Where a host directory's files sit in an image's root filesystem (its copy, made at build time). */
export interface TreeCopy {
  /** Directory under the root filesystem's `/`. */
  inImage: string;
  source: string;
}

/** An image whose root holds copies of host trees, so a benchmark can name files in it without mounting. */
export interface CopiedTreesImage extends BenchImage {
  rootOffsetBytes: number;
  trees: TreeCopy[];
}

export function largePiImage(): CopiedTreesImage {
  const image = piImage({
    name: 'pi-2g.img',
    bootBytes: 256 * MiB,
    rootBytes: 2048 * MiB,
    fillRoot(tree) {
      for (const src of ROOT_SOURCES) linkTree(src, join(tree, src.replaceAll('/', '_')));
    },
  });
  const trees = ROOT_SOURCES.map((source) => ({ inImage: source.replaceAll('/', '_'), source }));
  return { ...image, rootOffsetBytes: BOOT_START + 256 * MiB, trees };
}

/** Small-file trees copied several times under different prefixes: about 63,000 files and 0.84 GB a copy. */
const SMALL_FILE_SOURCES = ['/usr/share', '/usr/include'];
const SMALL_FILE_COPIES = 5;

/**
 * The real-size image (issue 14 "Real size"): ≥ 8 GB with ≥ 300,000 files, like the seed's 25 GB
 * root of 471,963 files scaled to this machine's disk. The copies are real copies: mkfs.ext4 -d
 * keeps hard links as links, so linked trees would add no files.
 */
export function realSizePiImage(): CopiedTreesImage & { files: number } {
  const image = piImage({
    name: 'pi-real-size.img',
    bootBytes: 256 * MiB,
    rootBytes: 7936 * MiB,
    fillRoot(tree) {
      for (let copy = 0; copy < SMALL_FILE_COPIES; copy++)
        for (const src of SMALL_FILE_SOURCES)
          sh('cp', ['-a', src, join(tree, `copy${copy}${src.replaceAll('/', '_')}`)]);
    },
  });
  const stats = sh('dumpe2fs', ['-h', `${image.path}?offset=${BOOT_START + 256 * MiB}`]).toString();
  const count = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(stats)?.[1]);
  const trees = Array.from({ length: SMALL_FILE_COPIES }, (_, copy) =>
    SMALL_FILE_SOURCES.map((source) => ({ inImage: `copy${copy}${source.replaceAll('/', '_')}`, source })),
  ).flat();
  return {
    ...image,
    rootOffsetBytes: BOOT_START + 256 * MiB,
    trees,
    files: count('Inode count') - count('Free inodes'),
  };
}

/** Hard links cost no copy; mkfs.ext4 -d reads the files through them. */
function linkTree(src: string, dest: string): void {
  try {
    sh('cp', ['-al', src, dest]);
  } catch {
    rmSync(dest, { recursive: true, force: true });
    sh('cp', ['-a', src, dest]);
  }
}

/** Builds (once) and describes a Pi-shaped image: boot partition at 4 MiB, root right after it. */
export function piImage(layout: PiImageLayout): BenchImage {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, layout.name);
  const sizeBytes = BOOT_START + layout.bootBytes + layout.rootBytes;
  if (!existsSync(path) || statSync(path).size !== sizeBytes) build(path, sizeBytes, layout);
  const stats = sh('dumpe2fs', ['-h', `${path}?offset=${BOOT_START + layout.bootBytes}`]).toString();
  const count = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(stats)?.[1]);
  return { path, sizeBytes, rootFull: 1 - count('Free blocks') / count('Block count') };
}

function build(path: string, sizeBytes: number, layout: PiImageLayout): void {
  // One work directory per image: two benches may build different images at once.
  const work = join(BENCH_DIR, `build-${layout.name}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'boot'), { recursive: true });
  rmSync(path, { force: true });
  // Built under a temporary name, so an interrupted build is never taken for a finished one.
  const partial = `${path}.partial`;
  sh('truncate', ['-s', String(sizeBytes), partial]);
  sh(
    'sfdisk',
    ['--quiet', '--no-reread', '--no-tell-kernel', partial],
    `label: dos\nstart=${BOOT_START / 512}, size=${layout.bootBytes / 512}, type=c\nstart=${(BOOT_START + layout.bootBytes) / 512}, type=83\n`,
  );

  const boot = join(work, 'boot.vfat');
  writeFileSync(join(work, 'boot', 'config.txt'), 'arm_64bit=1\n[pi5]\nkernel=kernel_2712.img\n');
  writeFileSync(
    join(work, 'boot', 'cmdline.txt'),
    'console=serial0,115200 console=tty1 root=PARTUUID=0badcafe-02 rootfstype=ext4 fsck.repair=yes rootwait\n',
  );
  writeFileSync(join(work, 'boot', 'user-data'), '#cloud-config\nhostname: raspberrypi\n');
  writeFileSync(join(work, 'boot', 'meta-data'), 'instance-id: bench\n');
  const files = ['config.txt', 'cmdline.txt', 'user-data', 'meta-data'].map((f) => join(work, 'boot', f));
  // A kernel-sized file where the partition holds one; small boot partitions get the text files only.
  if (layout.bootBytes >= 64 * MiB) {
    sh('cp', ['/usr/bin/node', join(work, 'boot', 'kernel_2712.img')]);
    files.push(join(work, 'boot', 'kernel_2712.img'));
  }
  sh('truncate', ['-s', String(layout.bootBytes), boot]);
  // FAT32 needs at least 34 MiB (65525 clusters); smaller partitions get the FAT mkfs.vfat picks.
  sh('mkfs.vfat', [...(layout.bootBytes >= 64 * MiB ? ['-F', '32'] : []), '-n', 'bootfs', boot]);
  sh('mcopy', ['-s', '-i', boot, ...files, '::']);

  const tree = join(work, 'root');
  mkdirSync(tree);
  layout.fillRoot(tree);
  const root = join(work, 'root.ext4');
  sh('mkfs.ext4', ['-q', '-F', '-b', '4096', '-L', 'rootfs', '-d', tree, root, `${layout.rootBytes / 1024}k`]);
  sh('dd', [
    `if=${boot}`,
    `of=${partial}`,
    'bs=4M',
    `seek=${BOOT_START}`,
    'oflag=seek_bytes',
    'conv=notrunc,sparse',
    'status=none',
  ]);
  sh('dd', [
    `if=${root}`,
    `of=${partial}`,
    'bs=4M',
    `seek=${BOOT_START + layout.bootBytes}`,
    'oflag=seek_bytes',
    'conv=notrunc,sparse',
    'status=none',
  ]);
  sh('mv', [partial, path]);
  rmSync(work, { recursive: true, force: true });
}
