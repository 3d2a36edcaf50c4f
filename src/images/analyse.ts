import type { BlockReader } from '../lib/fat/index.js';
import { analyseDisk, readPartitionTable, type Analysis } from '../lib/disk/index.js';
import { requireDisk, type ImageSourceInfo } from './disk-check.js';

/**
 * Partition table, filesystems and used ranges of a raw image (see analyseDisk). An image without
 * partitions, or with one past its end, is refused (requireDisk).
 */
export async function analyseImage(dev: BlockReader, source: ImageSourceInfo): Promise<Analysis> {
  const table = await readPartitionTable(dev);
  await requireDisk(table, dev, source);
  return analyseDisk(dev, table);
}
