import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/index.js';
import type { Fleet } from '../../fleet/index.js';
import type { ImageService } from '../../images/index.js';
import { netbootDir, readBuildManifest } from '../../netboot/index.js';
import type { DoctorCheck } from '../../protocol/doctor.js';
import type { Batch } from '../../protocol/fleet.js';
import type { Image } from '../../protocol/images.js';
import { sha256File } from '../file-hash.js';
import { elfMachineInTar } from './elf-in-tar.js';
import { fail, pass, warn } from './check.js';

/** Checks of what the server will hand out: batches, their images and pools, the netboot build. */

export interface FleetView {
  fleet: Pick<Fleet, 'batches' | 'pools' | 'products'>;
  images: Pick<ImageService, 'list' | 'active' | 'readBootFile' | 'withoutFiles'>;
}

/** The Pi 5 kernel, which boards netboot from the active image's boot partition (DESIGN §1.3). */
const PI5_KERNEL = 'kernel_2712.img';
/** `cli`: how the fixes spell the command (see DoctorOptions.cli). */
const buildHint = (cli: string) => `run: ${cli} netboot build`;

/** The batches that name boards now. */
export const activeBatches = (v: FleetView) => v.fleet.batches.list({ status: 'active' });
const label = (b: Batch) => `batch ${b.id} (${b.venue} ${b.product}${b.name ? ` "${b.name}"` : ''})`;

/** Each product with an active batch has an active image to write. */
export async function checkBatchImages(v: FleetView, batches: readonly Batch[], cli: string): Promise<DoctorCheck> {
  if (batches.length === 0)
    return warn(
      'batch-images',
      'no active batch: boards that enroll get no name',
      `open one: ${cli} batch create --venue CODE --product CODE --count N --activate`,
    );
  const missing: string[] = [];
  for (const b of batches)
    if (!(await v.images.active(b.product))) missing.push(`${label(b)} has no active ${b.product} image`);
  if (missing.length > 0)
    return fail(
      'batch-images',
      missing.join('; '),
      `import and activate one: ${cli} image add FILE --product CODE --version V --activate`,
    );
  return pass(
    'batch-images',
    `every active batch's product has an active image (${[...new Set(batches.map((b) => b.product))].join(', ')})`,
  );
}

/** Every image on record has its stored files (a backup restored without --with-images has none). */
export async function checkImageFiles(v: FleetView, cli: string): Promise<DoctorCheck> {
  const missing = await v.images.withoutFiles();
  if (missing.length === 0) return pass('image-files', 'every image on record has its stored files');
  const named = missing.map((i) => `${i.product} ${i.version} (image ${i.id}${i.active ? ', active' : ''})`);
  return (missing.some((i) => i.active) ? fail : warn)(
    'image-files',
    `no stored files for ${named.join(', ')}: boards cannot be given ${missing.length === 1 ? 'it' : 'them'}`,
    `import each again from its image file: ${cli} image add FILE --product CODE --version V`,
  );
}

/** Each active batch that names boards from a pool has names left in it. */
export async function checkPools(v: FleetView, batches: readonly Batch[], cli: string): Promise<DoctorCheck> {
  const empty: string[] = [];
  const counts: string[] = [];
  for (const b of batches) {
    if ((await v.fleet.products.get(b.product)).naming !== 'pool') continue;
    const stats = (await v.fleet.pools.stats({ venue: b.venue })).find((s) => s.product === b.product);
    const free = stats?.available ?? 0;
    counts.push(`${b.venue} ${b.product}: ${free} free`);
    if (free === 0) empty.push(`${label(b)}: the ${b.venue} ${b.product} pool has no free names`);
  }
  if (empty.length > 0)
    return fail('pools', empty.join('; '), `add names: ${cli} pool import VENUE --product CODE --range 61-80`);
  return pass('pools', counts.length > 0 ? counts.join(', ') : 'no active batch names boards from a pool');
}

/**
 * `netboot build` left an intact stage 1 and runtime bundle (the bundle's node is for arm64), and
 * the kernel boards boot (from the boot-files directory or each active image) is there.
 */
export async function checkNetbootFiles(
  v: FleetView,
  o: { dataDir: string; netboot: Config['netboot']; cli: string },
): Promise<DoctorCheck[]> {
  const manifest = await readBuildManifest(o.dataDir);
  if (!manifest)
    return [
      fail('netboot-files', `no network-boot build in ${netbootDir(o.dataDir)}`, buildHint(o.cli)),
      fail('runtime-arm64', 'no runtime bundle to check', buildHint(o.cli)),
    ];
  const dir = netbootDir(o.dataDir);
  const broken: string[] = [];
  for (const a of [manifest.stage1, manifest.runtime]) {
    const path = join(dir, a.file);
    if (!existsSync(path)) broken.push(`${a.file} is missing`);
    else if ((await sha256File(path)) !== a.sha256) broken.push(`${a.file} does not match its SHA-256 in build.json`);
  }
  const kernels = await kernelProblems(v, o.netboot.tftp.bootFilesDir);
  const files =
    broken.length > 0
      ? fail('netboot-files', broken.join('; '), `${buildHint(o.cli)} --force`)
      : kernels.length > 0
        ? fail(
            'netboot-files',
            kernels.join('; '),
            'activate a Raspberry Pi OS image for Pi 5 (its boot partition holds kernel_2712.img)',
          )
        : pass('netboot-files', `stage 1 and runtime bundle built ${manifest.builtAt}; ${PI5_KERNEL} present`);
  if (broken.some((b) => b.startsWith(manifest.runtime.file)))
    return [files, fail('runtime-arm64', 'the runtime bundle is damaged', `${buildHint(o.cli)} --force`)];
  const machine = await elfMachineInTar(join(dir, manifest.runtime.file), 'usr/bin/node');
  const arch =
    machine === 'arm64'
      ? pass('runtime-arm64', `the runtime bundle's node is for arm64`)
      : fail(
          'runtime-arm64',
          `the runtime bundle's node is ${machine ?? 'missing'}, not arm64: boards cannot run it`,
          `${buildHint(o.cli)} --force`,
        );
  return [files, arch];
}

/** What boards would not find: the Pi 5 kernel in the boot-files directory, or in active images. */
async function kernelProblems(v: FleetView, bootFilesDir: string | null): Promise<string[]> {
  if (bootFilesDir !== null)
    return existsSync(join(bootFilesDir, PI5_KERNEL))
      ? []
      : [`${bootFilesDir} (netboot.tftp.bootFilesDir) has no ${PI5_KERNEL}`];
  const active: Image[] = (await v.images.list()).filter((i) => i.active);
  if (active.length === 0) return ['no active image to take the kernel from'];
  const problems: string[] = [];
  for (const image of active) {
    // A boot file that cannot be read counts as missing: the check's failure line says what to do.
    const has = await v.images.readBootFile(image.id, PI5_KERNEL).then(
      () => true,
      () => false,
    );
    if (!has) problems.push(`image ${image.product} ${image.version} has no ${PI5_KERNEL} in its boot partition`);
  }
  return problems;
}
