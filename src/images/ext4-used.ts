import type { BlockReader } from '../lib/fat/index.js';
import type { ByteRange } from '../protocol/manifest.js';

/**
 * Which blocks of an ext2/3/4 filesystem are in use, from its own allocation maps: superblock,
 * group descriptors (32- or 64-byte), block bitmaps. Field offsets: the kernel's
 * Documentation/filesystems/ext4/{super,group_descr,blockgroup}.rst. Whenever the maps cannot be
 * trusted (journal not replayed, layouts not handled here) the answer is null and the caller
 * counts the whole partition as used: wrongly skipping a block would corrupt a board.
 */

/** An ext2/3/4 filesystem's label and used ranges. */
export interface Ext4Info {
  label: string | null;
  /** Used byte ranges relative to the partition start, or null when everything counts as used. */
  usedRanges: ByteRange[] | null;
}

const SUPERBLOCK_OFFSET = 1024;
const EXT4_MAGIC = 0xef53;
const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_64BIT = 0x80;
const RO_COMPAT_SPARSE_SUPER = 0x1;
const RO_COMPAT_GDT_CSUM = 0x10;
const RO_COMPAT_BIGALLOC = 0x200;
const RO_COMPAT_METADATA_CSUM = 0x400;
const COMPAT_SPARSE_SUPER2 = 0x200;
const BG_BLOCK_UNINIT = 0x2;

/** True for group 0, 1 and powers of 3, 5 and 7: where sparse_super keeps superblock backups. */
function isSparseGroup(g: number): boolean {
  if (g <= 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < g) p *= base;
    if (p === g) return true;
  }
  return false;
}

/** Detects ext2/3/4 by its superblock magic; null when the partition holds something else. */
export async function readExt4(dev: BlockReader): Promise<Ext4Info | null> {
  if (dev.sizeBytes < SUPERBLOCK_OFFSET + 1024) return null;
  const sb = await dev.read(SUPERBLOCK_OFFSET, 1024);
  const v = new DataView(sb.buffer, sb.byteOffset, sb.byteLength);
  if (v.getUint16(0x38, true) !== EXT4_MAGIC) return null;
  const labelBytes = sb.subarray(0x78, 0x88);
  const end = labelBytes.indexOf(0);
  const label = new TextDecoder().decode(labelBytes.subarray(0, end < 0 ? 16 : end)) || null;
  return { label, usedRanges: await usedBlocks(dev, v) };
}

async function usedBlocks(dev: BlockReader, v: DataView): Promise<ByteRange[] | null> {
  const incompat = v.getUint32(0x60, true);
  const roCompat = v.getUint32(0x64, true);
  const compat = v.getUint32(0x5c, true);
  if (incompat & (INCOMPAT_RECOVER | INCOMPAT_JOURNAL_DEV | INCOMPAT_META_BG)) return null;
  const logBlock = v.getUint32(0x18, true);
  if (logBlock > 6) return null;
  const blockBytes = 1024 << logBlock;
  const is64 = (incompat & INCOMPAT_64BIT) !== 0;
  const blocksCount = v.getUint32(0x4, true) + (is64 ? v.getUint32(0x150, true) * 2 ** 32 : 0);
  const firstDataBlock = v.getUint32(0x14, true);
  const blocksPerGroup = v.getUint32(0x20, true);
  const bigalloc = (roCompat & RO_COMPAT_BIGALLOC) !== 0;
  // With bigalloc a bitmap bit is a cluster of blocks; otherwise a cluster is one block.
  const clusterBlocks = bigalloc ? 2 ** (v.getUint32(0x1c, true) - logBlock) : 1;
  const clustersPerGroup = bigalloc ? v.getUint32(0x24, true) : blocksPerGroup;
  const inodesPerGroup = v.getUint32(0x28, true);
  const inodeBytes = v.getUint32(0x4c, true) >= 1 ? v.getUint16(0x58, true) : 128;
  const descBytes = is64 ? v.getUint16(0xfe, true) : 32;
  if (
    blocksPerGroup === 0 ||
    clustersPerGroup === 0 ||
    !Number.isInteger(clusterBlocks) ||
    descBytes < 32 ||
    blocksCount * blockBytes > dev.sizeBytes
  )
    return null;
  if (clustersPerGroup * clusterBlocks !== blocksPerGroup || clustersPerGroup > blockBytes * 8) return null;
  const groups = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  const gdtBlocks = Math.ceil((groups * descBytes) / blockBytes);
  const reservedGdt = v.getUint16(0xce, true);
  const trustUninit = (roCompat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM)) !== 0;
  const backupGroups =
    compat & COMPAT_SPARSE_SUPER2 ? new Set([0, v.getUint32(0x24c, true), v.getUint32(0x250, true)]) : null;
  const hasSuper = (g: number) =>
    backupGroups ? backupGroups.has(g) : roCompat & RO_COMPAT_SPARSE_SUPER ? isSparseGroup(g) : true;

  const gdt = await dev.read((firstDataBlock + 1) * blockBytes, gdtBlocks * blockBytes);
  const gv = new DataView(gdt.buffer, gdt.byteOffset, gdt.byteLength);
  const blocks: [number, number][] = [];
  const mark = (first: number, count: number) => {
    if (count > 0) blocks.push([first, Math.min(count, blocksCount - first)]);
  };
  mark(0, firstDataBlock + 1 + gdtBlocks + reservedGdt);
  const inodeTableBlocks = Math.ceil((inodesPerGroup * inodeBytes) / blockBytes);
  for (let g = 0; g < groups; g++) {
    const d = g * descBytes;
    const hi = (o: number) => (descBytes >= 64 ? gv.getUint32(d + o, true) * 2 ** 32 : 0);
    const blockBitmap = gv.getUint32(d, true) + hi(0x20);
    const inodeBitmap = gv.getUint32(d + 4, true) + hi(0x24);
    const inodeTable = gv.getUint32(d + 8, true) + hi(0x28);
    const flags = gv.getUint16(d + 0x12, true);
    for (const [first, count] of [
      [blockBitmap, 1],
      [inodeBitmap, 1],
      [inodeTable, inodeTableBlocks],
    ] as const) {
      if (first >= blocksCount) return null;
      mark(first, count);
    }
    const groupFirst = firstDataBlock + g * blocksPerGroup;
    if (trustUninit && flags & BG_BLOCK_UNINIT) {
      // No bitmap on disk: the group holds only metadata, its own marked above, plus a superblock backup.
      if (hasSuper(g)) mark(groupFirst, 1 + gdtBlocks + reservedGdt);
      continue;
    }
    const bitmap = await dev.read(blockBitmap * blockBytes, blockBytes);
    for (let bit = 0; bit < clustersPerGroup;) {
      if (!(bitmap[bit >> 3]! & (1 << (bit & 7)))) {
        bit++;
        continue;
      }
      let run = 1;
      while (bit + run < clustersPerGroup && bitmap[(bit + run) >> 3]! & (1 << ((bit + run) & 7))) run++;
      const first = groupFirst + bit * clusterBlocks;
      if (first >= blocksCount) break;
      mark(first, run * clusterBlocks);
      bit += run;
    }
  }
  return blocks.map(([first, count]) => ({ offsetBytes: first * blockBytes, lengthBytes: count * blockBytes }));
}
