/**
 * The benchmark image: Raspberry Pi OS-shaped (MBR, 256 MiB FAT32 boot with cloud-init files, a
 * 2 GiB ext4 root about 73 % full of real files from this machine's /usr, as in
 * ../shared/docs/stack-lab.md §4c), built without mounting and kept between runs in
 * $RPI_DEPLOY_BENCH_DIR (default: the system temp directory).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MiB = 1024 * 1024;
const BOOT_START = 4 * MiB;
const BOOT_BYTES = 256 * MiB;
const ROOT_BYTES = 2048 * MiB;
/** What fills the root filesystem: about 1.4 GB of libraries, binaries, documentation. */
const ROOT_SOURCES = ['/usr/lib/x86_64-linux-gnu', '/usr/share'];

export const BENCH_DIR = process.env['RPI_DEPLOY_BENCH_DIR'] ?? join(tmpdir(), 'rpi-deploy-bench');

const sh = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

export interface BenchImage {
  path: string;
  sizeBytes: number;
  /** How full the root filesystem is (0–1). */
  rootFull: number;
}

export function largePiImage(): BenchImage {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, 'pi-2g.img');
  const sizeBytes = BOOT_START + BOOT_BYTES + ROOT_BYTES;
  if (!existsSync(path) || statSync(path).size !== sizeBytes) build(path, sizeBytes);
  const stats = sh('dumpe2fs', ['-h', `${path}?offset=${BOOT_START + BOOT_BYTES}`]).toString();
  const count = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(stats)?.[1]);
  return { path, sizeBytes, rootFull: 1 - count('Free blocks') / count('Block count') };
}

function build(path: string, sizeBytes: number): void {
  const work = join(BENCH_DIR, 'build');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'boot'), { recursive: true });
  rmSync(path, { force: true });
  sh('truncate', ['-s', String(sizeBytes), path]);
  sh('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', path], `label: dos\nstart=${BOOT_START / 512}, size=${BOOT_BYTES / 512}, type=c\nstart=${(BOOT_START + BOOT_BYTES) / 512}, type=83\n`);

  const boot = join(work, 'boot.vfat');
  writeFileSync(join(work, 'boot', 'config.txt'), 'arm_64bit=1\n[pi5]\nkernel=kernel_2712.img\n');
  writeFileSync(join(work, 'boot', 'cmdline.txt'), 'console=serial0,115200 console=tty1 root=PARTUUID=0badcafe-02 rootfstype=ext4 fsck.repair=yes rootwait\n');
  writeFileSync(join(work, 'boot', 'user-data'), '#cloud-config\nhostname: raspberrypi\n');
  writeFileSync(join(work, 'boot', 'meta-data'), 'instance-id: bench\n');
  sh('cp', ['/usr/bin/node', join(work, 'boot', 'kernel_2712.img')]);
  sh('truncate', ['-s', String(BOOT_BYTES), boot]);
  sh('mkfs.vfat', ['-F', '32', '-n', 'bootfs', boot]);
  sh('mcopy', ['-s', '-i', boot, join(work, 'boot', 'config.txt'), join(work, 'boot', 'cmdline.txt'), join(work, 'boot', 'user-data'), join(work, 'boot', 'meta-data'), join(work, 'boot', 'kernel_2712.img'), '::']);

  // Hard links cost no copy; mkfs.ext4 -d reads the files through them.
  const tree = join(work, 'root');
  mkdirSync(tree);
  for (const src of ROOT_SOURCES) {
    try {
      sh('cp', ['-al', src, join(tree, src.replaceAll('/', '_'))]);
    } catch {
      sh('cp', ['-a', src, join(tree, src.replaceAll('/', '_'))]);
    }
  }
  const root = join(work, 'root.ext4');
  sh('mkfs.ext4', ['-q', '-F', '-b', '4096', '-L', 'rootfs', '-d', tree, root, `${ROOT_BYTES / 1024}k`]);
  sh('dd', [`if=${boot}`, `of=${path}`, 'bs=4M', `seek=${BOOT_START}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  sh('dd', [`if=${root}`, `of=${path}`, 'bs=4M', `seek=${BOOT_START + BOOT_BYTES}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  rmSync(work, { recursive: true, force: true });
}
