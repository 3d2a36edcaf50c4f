import { FatError, openFatVolume, sliceDevice, type BlockReader, type FatVolume } from '../fat/index.js';
import type { BootPartition, ByteRange, ImageLayout, OsGeneration, Partition } from '../../protocol/manifest.js';
import { mergeRanges, shiftRanges, totalBytes } from './byte-ranges.js';
import { readExt4 } from './ext4-used.js';
import type { PartitionTable } from './partitions.js';

/** What analysis adds to a chunked image. */
export type Analysis = Pick<ImageLayout, 'partitionTable' | 'partitions' | 'usedRanges' | 'usedBytes' | 'boot'>;

/** Files on a boot partition that mean cloud-init seeds first boot (docs/pi5-netboot.md §6.2). */
const CLOUD_INIT_FILES = ['user-data', 'meta-data', 'network-config'];

/**
 * cloud-init files at the root → current Raspberry Pi OS; otherwise a Raspberry Pi boot
 * partition (config.txt, cmdline.txt and a kernel) is of the firstrun.sh era (Bookworm, §6.1).
 */
export function detectOsGeneration(rootNames: readonly string[]): OsGeneration {
  const names = new Set(rootNames.map((n) => n.toLowerCase()));
  if (CLOUD_INIT_FILES.some((f) => names.has(f))) return 'cloud-init';
  const hasKernel = [...names].some((n) => /^kernel.*\.img$/.test(n));
  return names.has('config.txt') && names.has('cmdline.txt') && hasKernel ? 'firstrun' : 'unknown';
}

async function tryFat(dev: BlockReader): Promise<FatVolume | null> {
  try {
    return await openFatVolume(dev);
  } catch (e) {
    if (e instanceof FatError && e.code === 'FAT_NOT_FAT') return null;
    throw e;
  }
}

/**
 * Filesystems and used ranges of a disk whose partition table was read. Used: the partition table
 * and everything before the first partition; in FAT partitions the metadata and allocated
 * clusters; in ext2/3/4 partitions the blocks their bitmaps mark; any other partition whole. Space
 * outside partitions and free filesystem space is unused. Zeros are never a reason to call data
 * unused. Reads only through `dev`, so an image file, a stored image and a live card are read alike.
 */
export async function analyseDisk(dev: BlockReader, table: PartitionTable): Promise<Analysis> {
  const used: ByteRange[] = [...table.usedRanges];
  const partitions: Partition[] = [];
  let boot: BootPartition | null = null;
  for (const entry of table.entries) {
    const whole = { offsetBytes: entry.startBytes, lengthBytes: entry.sizeBytes };
    const part = sliceDevice(dev, entry.startBytes, entry.sizeBytes);
    const base = { number: entry.number, startBytes: entry.startBytes, sizeBytes: entry.sizeBytes, type: entry.type };
    const fat = entry.isContainer ? null : await tryFat(part);
    if (fat) {
      used.push(...shiftRanges(fat.usedRanges(), entry.startBytes));
      partitions.push({ ...base, filesystem: 'vfat', label: fat.geometry.label });
      if (!boot) {
        const files = await fat.walk();
        boot = {
          partitionNumber: entry.number,
          osGeneration: detectOsGeneration(files.filter((f) => !f.path.includes('/')).map((f) => f.path)),
          files: files.filter((f) => !f.isDirectory).map((f) => ({ path: f.path, sizeBytes: f.sizeBytes })),
        };
      }
      continue;
    }
    const ext4 = entry.isContainer ? null : await readExt4(part);
    if (ext4) {
      used.push(...(ext4.usedRanges ? shiftRanges(ext4.usedRanges, entry.startBytes) : [whole]));
      partitions.push({ ...base, filesystem: 'ext4', label: ext4.label });
      continue;
    }
    used.push(whole);
    partitions.push({ ...base, filesystem: 'unknown', label: null });
  }
  const usedRanges = mergeRanges(used, dev.sizeBytes);
  return { partitionTable: table.kind, partitions, usedRanges, usedBytes: totalBytes(usedRanges), boot };
}
