import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createAptCache } from '../../src/netboot/build/apt.js';
import { encodeCpio, type CpioEntry } from '../../src/netboot/build/cpio.js';
import { MODULE_LIST } from '../../src/netboot/build/stage1.js';

/**
 * Debian's arm64 kernel as the stand-in for a Pi 5 kernel under qemu-system-aarch64 -M virt
 * (docs/testing.md): the kernel image and, as a second cpio to append to stage 1, the virtio
 * modules it needs (Debian builds them as modules), with the load order stage 1 follows.
 */
export interface GuestKernel {
  /** Uncompressed arm64 Image, what `-kernel` (and a Pi's config.txt `kernel=`) loads. */
  kernel: string;
  /** newc cpio with lib/modules/*.ko and lib/modules/load-order. */
  modules: string;
  packageName: string;
}

/** Dependency order (each module's .modinfo `depends=`); virtio and virtio_ring are built in on the generic flavour. */
const VIRTIO_MODULES = [
  'drivers/virtio/virtio_ring',
  'drivers/virtio/virtio',
  'net/core/failover',
  'drivers/net/net_failover',
  'drivers/virtio/virtio_pci_modern_dev',
  'drivers/virtio/virtio_pci_legacy_dev',
  'drivers/virtio/virtio_pci',
  'drivers/block/virtio_blk',
  'drivers/net/virtio_net',
  'drivers/char/hw_random/virtio-rng',
];

/**
 * Resolves `linux-image-arm64` to the current ABI package (never pinned: the archive keeps only
 * the current one), downloads it through the same private apt state as `netboot build`, and
 * caches the kernel and the module cpio per package version.
 */
export async function prepareGuestKernel(
  cacheDir: string,
  onProgress: (line: string) => void = () => {},
): Promise<GuestKernel> {
  const apt = createAptCache(join(cacheDir, 'apt'), onProgress);
  await apt.update(24 * 3600_000);
  const meta = await apt.show('linux-image-arm64');
  const packageName = meta.depends.find((d) => d.startsWith('linux-image-'));
  if (!packageName) throw new Error(`linux-image-arm64 ${meta.version} depends on no linux-image-* package`);
  const info = await apt.show(packageName);
  const dir = join(cacheDir, 'guest-kernel', `${packageName}_${info.version}`);
  const guest = { kernel: join(dir, 'Image'), modules: join(dir, 'modules.cpio'), packageName };
  if (existsSync(guest.kernel) && existsSync(guest.modules)) return guest;

  const root = join(dir, 'root');
  await apt.extract(await apt.fetch(packageName), root);
  const release = packageName.replace(/^linux-image-/, '');
  const kernelFile = join(root, 'boot', `vmlinuz-${release}`);
  const moduleDir = join(root, 'lib', 'modules', release, 'kernel');
  const entries: CpioEntry[] = [
    { path: 'lib', type: 'dir' },
    { path: 'lib/modules', type: 'dir' },
  ];
  const order: string[] = [];
  for (const m of VIRTIO_MODULES) {
    const file = join(moduleDir, `${m}.ko`);
    if (!existsSync(file)) continue;
    const name = m.split('/').at(-1)!;
    order.push(name);
    entries.push({ path: `lib/modules/${name}.ko`, type: 'file', data: readFileSync(file) });
  }
  if (!order.includes('virtio_net') || !order.includes('virtio_blk'))
    throw new Error(`${packageName} has no virtio_net/virtio_blk modules under ${moduleDir}`);
  entries.push({ path: MODULE_LIST, type: 'file', data: Buffer.from(`${order.join('\n')}\n`) });
  writeFileSync(guest.modules, encodeCpio(entries));
  writeFileSync(guest.kernel, readFileSync(kernelFile));
  await rm(root, { recursive: true, force: true });
  return guest;
}
