import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
  copyFileSync,
  readdirSync,
  symlinkSync,
  lutimesSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Builds small but real Raspberry Pi OS-shaped disk images without mounting anything (the CI
 * kernel has no vfat and no loop partitions): an MBR made by sfdisk, a FAT32 boot partition made
 * by mkfs.vfat and filled by mcopy, an ext4 root made by `mkfs.ext4 -d`, and free space at the
 * end. test/fixtures/README.md describes each fixture. About 62 MiB, sparse, built in well under
 * a second; the same options give the same bytes.
 */

export type PiImageVariant = 'cloud-init' | 'bookworm';

export interface PiImageOptions {
  /** `cloud-init`: current Raspberry Pi OS (user-data/meta-data/network-config on the boot partition); `bookworm`: none of them. */
  variant?: PiImageVariant;
  /** Changes every generated file's bytes, so two images with different seeds share no data chunks. */
  seed?: string;
  /** Size of the all-zero file in the root filesystem whose blocks are allocated (used). */
  zeroFileBytes?: number;
  /**
   * Adds two files of this size to the root, side by side: `usr/lib/firmware/blob.bin`, random
   * (whole chunks zstd cannot shrink, stored larger than raw, like compressed packages and media),
   * and `usr/share/doc/manual.txt`, text (chunks that shrink several times). The root grows to hold them.
   */
  payloadBytes?: number;
  /**
   * Extra entries in the root filesystem, by path: a file's bytes, a symbolic link, or an empty
   * directory (e.g. what a running board leaves behind, for sanitising).
   */
  plant?: Record<string, PlantedEntry>;
}

export type PlantedEntry = Buffer | { symlink: string } | { dir: true };

export interface ByteSpan {
  offsetBytes: number;
  lengthBytes: number;
}

export interface PiImage {
  path: string;
  sizeBytes: number;
  sha256: string;
  variant: PiImageVariant;
  /** Partition 1, FAT32, type 0c. `files` maps each path on it to its bytes. */
  boot: ByteSpan & { files: Record<string, Buffer> };
  /** Partition 2, ext4, type 83. */
  root: ByteSpan & {
    /** `/opt/zeros.bin`: all zero bytes, in blocks the ext4 bitmap marks as used; image offsets. */
    zeroFile: { path: string; sizeBytes: number; spans: ByteSpan[] };
    /** Regular files of the root filesystem with their contents (as `debugfs cat` would give). */
    files: Record<string, Buffer>;
  };
  /** Unpartitioned space after the root partition: unused by anything. */
  freeTail: ByteSpan;
}

const MiB = 1024 * 1024;
const BOOT_START = 4 * MiB;
const BOOT_BYTES = 34 * MiB; // the smallest FAT32 mtools accepts with 512-byte clusters (65525 clusters)
const ROOT_BYTES = 16 * MiB;
const TAIL_BYTES = 8 * MiB;
const FIXED_TIME = new Date('2026-11-01T12:00:00Z');

const run = (cmd: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}) =>
  execFileSync(cmd, args, {
    input: options.input,
    env: { ...process.env, MTOOLS_SKIP_CHECK: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });

/** Deterministic pseudo-random bytes (AES-CTR of zeros keyed by `label`): incompressible like real binaries. */
export function pseudoRandomBytes(label: string, length: number): Buffer {
  const key = createHash('sha256').update(label).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/**
 * Sector 0 of a disk of `sizeBytes`: an MBR whose one partition (type 83) runs from sector 1 to
 * the last whole sector. Written over pseudo-random bytes, it makes the smallest disk an import
 * accepts: one partition holding no filesystem analysis knows.
 */
export function mbrSector(sizeBytes: number): Buffer {
  const sectors = Math.floor(sizeBytes / 512);
  if (sectors < 2) throw new Error(`a disk with a partition needs at least 1024 bytes, not ${sizeBytes}`);
  const mbr = Buffer.alloc(512);
  mbr.writeUInt8(0x83, 446 + 4);
  mbr.writeUInt32LE(1, 446 + 8);
  mbr.writeUInt32LE(sectors - 1, 446 + 12);
  mbr.writeUInt16LE(0xaa55, 510);
  return mbr;
}

/** `sizeBytes` of pseudo-random bytes under an mbrSector(): a disk with one partition of unknown contents. */
export function rawDisk(label: string, sizeBytes: number): Buffer {
  const disk = pseudoRandomBytes(label, sizeBytes);
  mbrSector(sizeBytes).copy(disk);
  return disk;
}

/** Text that compresses like documentation does. */
function textBytes(label: string, length: number): Buffer {
  const words = ['raspberry', 'kernel', 'partition', 'boot', 'firmware', 'cloud', 'init', 'network', label];
  const rnd = pseudoRandomBytes(`${label}/text`, length);
  let out = '';
  for (let i = 0; out.length < length; i++)
    out += `${words[rnd[i % rnd.length]! % words.length]}${i % 11 === 0 ? '\n' : ' '}`;
  return Buffer.from(out.slice(0, length));
}

function bootFiles(variant: PiImageVariant, seed: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {
    'config.txt': Buffer.from(
      '# rpi-deploy test image\narm_64bit=1\nauto_initramfs=1\ndtoverlay=vc4-kms-v3d\n[pi5]\nkernel=kernel_2712.img\n',
    ),
    'cmdline.txt': Buffer.from(
      'console=serial0,115200 console=tty1 root=PARTUUID=5e3da3da-02 rootfstype=ext4 fsck.repair=yes rootwait\n',
    ),
    'issue.txt': Buffer.from(`Raspberry Pi reference 2026-10-01 (${variant}, ${seed})\n`),
    'kernel_2712.img': pseudoRandomBytes(`${seed}/kernel_2712`, 1200 * 1024),
    'kernel8.img': pseudoRandomBytes(`${seed}/kernel8`, 900 * 1024),
    initramfs_2712: pseudoRandomBytes(`${seed}/initramfs_2712`, 300 * 1024),
    'bcm2712-rpi-5-b.dtb': pseudoRandomBytes(`${seed}/dtb-5b`, 80 * 1024),
    'bcm2712d0-rpi-5-b.dtb': pseudoRandomBytes(`${seed}/dtb-d0`, 80 * 1024),
    'bcm2712-rpi-cm5-cm5io.dtb': pseudoRandomBytes(`${seed}/dtb-cm5`, 78 * 1024),
    'overlays/overlay_map.dtb': pseudoRandomBytes(`${seed}/overlay_map`, 5 * 1024),
    'overlays/bcm2712d0.dtbo': pseudoRandomBytes(`${seed}/bcm2712d0`, 2 * 1024),
    'overlays/vc4-kms-v3d-pi5.dtbo': pseudoRandomBytes(`${seed}/vc4`, 6 * 1024),
    'overlays/README': textBytes(`${seed}/overlays-readme`, 30 * 1024),
  };
  if (variant === 'cloud-init') {
    files['user-data'] = Buffer.from('#cloud-config\nhostname: raspberrypi\nmanage_etc_hosts: true\n');
    files['meta-data'] = Buffer.from('instance-id: rpios-image\n');
    files['network-config'] = Buffer.from(
      'network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      optional: true\n',
    );
  }
  return files;
}

function rootFiles(seed: string, payloadBytes: number): Record<string, Buffer> {
  return {
    'etc/hostname': Buffer.from('raspberrypi\n'),
    'etc/os-release': Buffer.from('PRETTY_NAME="Debian GNU/Linux (rpi-deploy test image)"\nID=debian\n'),
    'usr/bin/agent-standin': pseudoRandomBytes(`${seed}/bin`, 1536 * 1024),
    'usr/share/doc/readme.txt': textBytes(`${seed}/doc`, 700 * 1024),
    'usr/lib/libstandin.so': pseudoRandomBytes(`${seed}/lib`, 400 * 1024),
    ...(payloadBytes > 0 && {
      'usr/lib/firmware/blob.bin': pseudoRandomBytes(`${seed}/blob`, payloadBytes),
      'usr/share/doc/manual.txt': textBytes(`${seed}/manual`, payloadBytes),
    }),
  };
}

function writeTree(dir: string, files: Record<string, Buffer>): void {
  for (const [path, data] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
    utimesSync(file, FIXED_TIME, FIXED_TIME);
  }
}

function plantTree(dir: string, entries: Record<string, PlantedEntry>): void {
  const files: Record<string, Buffer> = {};
  for (const [path, entry] of Object.entries(entries)) {
    const target = join(dir, path);
    if (Buffer.isBuffer(entry)) {
      files[path] = entry;
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    if ('symlink' in entry) symlinkSync(entry.symlink, target);
    else mkdirSync(target, { recursive: true });
    lutimesSync(target, FIXED_TIME, FIXED_TIME);
  }
  writeTree(dir, files);
}

function writeAt(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Builds the image in `dir` (created if needed) and describes where everything is. */
export function buildPiImage(dir: string, options: PiImageOptions = {}): PiImage {
  const variant = options.variant ?? 'cloud-init';
  const seed = options.seed ?? 'default';
  const zeroFileBytes = options.zeroFileBytes ?? 1 * MiB;
  const payloadBytes = options.payloadBytes ?? 0;
  // Both payload files plus ext4's overhead for them (block maps, a larger journal share).
  const rootBytes = ROOT_BYTES + Math.ceil((2.2 * payloadBytes) / MiB) * MiB;
  const work = join(dir, `.build-${variant}-${seed}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const path = join(dir, `pi-${variant}-${seed}.img`);
  const rootStart = BOOT_START + BOOT_BYTES;
  const sizeBytes = rootStart + rootBytes + TAIL_BYTES;

  rmSync(path, { force: true });
  run('truncate', ['-s', String(sizeBytes), path]);
  const sectors = (n: number) => n / 512;
  run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', path], {
    input: `label: dos\nlabel-id: 0x5e3da3da\nstart=${sectors(BOOT_START)}, size=${sectors(BOOT_BYTES)}, type=c\nstart=${sectors(rootStart)}, size=${sectors(rootBytes)}, type=83\n`,
  });

  const boot = bootFiles(variant, seed);
  const bootTree = join(work, 'boot');
  writeTree(bootTree, boot);
  const bootFs = join(work, 'boot.vfat');
  run('truncate', ['-s', String(BOOT_BYTES), bootFs]);
  run('mkfs.vfat', ['-F', '32', '-s', '1', '-n', 'bootfs', '-i', '5e3da3da', '--invariant', bootFs]);
  run('mcopy', [
    '-s',
    '-m',
    '-i',
    bootFs,
    ...readdirSync(bootTree)
      .sort()
      .map((n) => join(bootTree, n)),
    '::',
  ]);

  const root = rootFiles(seed, payloadBytes);
  const rootTree = join(work, 'root');
  // Written with a non-zero pattern, then zeroed in place below: mkfs.ext4 -d would leave an
  // all-zero file sparse, and the point is a file whose blocks are allocated yet hold zeros.
  const zeroPath = 'opt/zeros.bin';
  writeTree(rootTree, { ...root, [zeroPath]: Buffer.alloc(zeroFileBytes, 0xa5) });
  plantTree(rootTree, options.plant ?? {});
  const rootFs = join(work, 'root.ext4');
  run(
    'mkfs.ext4',
    [
      '-q',
      '-F',
      '-b',
      '4096',
      '-L',
      'rootfs',
      '-U',
      '5e3da3da-0000-4000-8000-000000000002',
      '-E',
      'root_owner=0:0,hash_seed=5e3da3da-0000-4000-8000-000000000003',
      '-d',
      rootTree,
      rootFs,
      `${rootBytes / 1024}k`,
    ],
    {
      env: { E2FSPROGS_FAKE_TIME: String(FIXED_TIME.getTime() / 1000) },
    },
  );
  const blocks = run('debugfs', ['-R', `blocks /${zeroPath}`, rootFs])
    .toString()
    .trim()
    .split(/\s+/)
    .map(Number);
  if (blocks.length * 4096 < zeroFileBytes || blocks.some((b) => !Number.isInteger(b) || b <= 0))
    throw new Error(`unexpected blocks for ${zeroPath}: ${blocks.join(' ')}`);
  for (const b of blocks) writeAt(rootFs, b * 4096, Buffer.alloc(4096));

  writeAt(path, BOOT_START, readFileSync(bootFs));
  writeAt(path, rootStart, readFileSync(rootFs));
  rmSync(work, { recursive: true, force: true });

  const spans: ByteSpan[] = [];
  for (const b of blocks) {
    const offsetBytes = rootStart + b * 4096;
    const last = spans[spans.length - 1];
    if (last && last.offsetBytes + last.lengthBytes === offsetBytes) last.lengthBytes += 4096;
    else spans.push({ offsetBytes, lengthBytes: 4096 });
  }
  return {
    path,
    sizeBytes,
    sha256: sha256File(path),
    variant,
    boot: { offsetBytes: BOOT_START, lengthBytes: BOOT_BYTES, files: boot },
    root: {
      offsetBytes: rootStart,
      lengthBytes: rootBytes,
      zeroFile: { path: `/${zeroPath}`, sizeBytes: zeroFileBytes, spans },
      files: root,
    },
    freeTail: { offsetBytes: rootStart + rootBytes, lengthBytes: TAIL_BYTES },
  };
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The container formats an image may be imported from. */
export type CompressedFormat = 'xz' | 'gz' | 'zst' | 'zip';

/**
 * The image compressed as its release would be, with the standard tools: `.img.xz`, `.img.gz`,
 * `.img.zst`, or a `.zip` holding the `.img` (plus a README, which import must ignore).
 */
export function compressImage(imgPath: string, format: CompressedFormat): string {
  const out = `${imgPath}.${format}`;
  rmSync(out, { force: true });
  if (format === 'xz') run('xz', ['-k', '-0', '-T1', '-f', imgPath]);
  else if (format === 'gz') run('gzip', ['-1', '-k', '-f', imgPath]);
  else if (format === 'zst') run('zstd', ['-q', '-3', '-f', imgPath, '-o', out]);
  else {
    const readme = join(dirname(imgPath), 'README.txt');
    writeFileSync(readme, 'Flash the image with rpi-deploy.\n');
    run('zip', ['-q', '-j', out, imgPath, readme]);
  }
  return out;
}

/** A copy of `path` cut to its first `keepBytes` (a download that stopped early). */
export function truncatedCopy(path: string, keepBytes: number, suffix = 'truncated'): string {
  const out = `${path}.${suffix}`;
  writeFileSync(out, readFileSync(path).subarray(0, keepBytes));
  return out;
}

/** A copy of `path` with the byte at `offset` inverted (a bit-rotted download). */
export function corruptedCopy(path: string, offset: number, suffix = 'corrupt'): string {
  const out = `${path}.${suffix}`;
  copyFileSync(path, out);
  const data = readFileSync(out);
  writeAt(out, offset, Buffer.from([data[offset]! ^ 0xff]));
  return out;
}

/** A zip of the given files (stored under their base names), e.g. two images or none. */
export function zipOf(out: string, files: string[]): string {
  rmSync(out, { force: true });
  if (files.length === 0) {
    // `zip` refuses to make an empty archive: an end-of-central-directory record alone is one.
    writeFileSync(out, Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]));
  } else {
    run('zip', ['-q', '-j', out, ...files]);
  }
  return out;
}

/**
 * A zip whose single entry declares an uncompressed size `deltaBytes` away from the truth, in
 * both its local header and the central directory (a zip that lies about its size).
 */
export function zipWithLyingSize(imgPath: string, deltaBytes: number): string {
  const out = zipOf(`${imgPath}.lying.zip`, [imgPath]);
  const zip = readFileSync(out);
  const patch = (at: number) => zip.writeUInt32LE(zip.readUInt32LE(at) + deltaBytes, at);
  patch(22); // local file header: uncompressed size
  const central = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  patch(central + 24); // central directory header: uncompressed size
  writeFileSync(out, zip);
  return out;
}

/** Flips a byte in the middle of a stored chunk, as a failing disk would (device-path fault injection). */
export function corruptStoredChunk(dataDir: string, sha256: string): void {
  const file = join(dataDir, 'images', 'chunks', sha256.slice(0, 2), `${sha256}.zst`);
  const size = statSync(file).size;
  const data = readFileSync(file);
  writeAt(file, Math.floor(size / 2), Buffer.from([data[Math.floor(size / 2)]! ^ 0xff]));
}
