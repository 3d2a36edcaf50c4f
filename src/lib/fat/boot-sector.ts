import { FatError } from './errors.js';

/** FAT12, FAT16 or FAT32. */
export type FatType = 12 | 16 | 32;

/** Where everything lives in a FAT volume, from its boot sector (BPB). Offsets in bytes. */
export interface FatGeometry {
  type: FatType;
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterBytes: number;
  reservedSectors: number;
  fatCount: number;
  /** Size of one FAT copy. */
  fatBytes: number;
  /** Offset of the first FAT copy; copy i is at fatOffset + i * fatBytes. */
  fatOffset: number;
  /** FAT12/16 only: the fixed root directory region (0 bytes on FAT32). */
  rootDirOffset: number;
  rootDirBytes: number;
  /** FAT32 only: first cluster of the root directory (0 on FAT12/16). */
  rootCluster: number;
  dataOffset: number;
  /** Number of data clusters; valid cluster numbers are 2 … clusterCount + 1. */
  clusterCount: number;
  totalBytes: number;
  /** FAT32 only: byte offset of the FSInfo sector, or null. */
  fsInfoOffset: number | null;
  label: string | null;
}

/** Below these cluster counts a volume is FAT12 / FAT16 (Microsoft FAT specification §3.5). */
const FAT12_MAX_CLUSTERS = 4084;

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

function notFat(why: string): FatError {
  return new FatError('FAT_NOT_FAT', `Not a FAT volume: ${why}`, { why });
}

/**
 * Parses the boot sector (first 512 bytes at least). The FAT type follows Linux's vfat driver:
 * a zero 16-bit FAT size means FAT32 (whatever the cluster count), otherwise the cluster count
 * tells FAT12 from FAT16 as the specification says.
 */
export function parseBootSector(sector: Uint8Array, deviceBytes: number): FatGeometry {
  if (sector.length < 512) throw notFat('boot sector shorter than 512 bytes');
  if (sector[510] !== 0x55 || sector[511] !== 0xaa) throw notFat('no 55 AA signature');
  const bytesPerSector = u16(sector, 11);
  const sectorsPerCluster = sector[13]!;
  const reservedSectors = u16(sector, 14);
  const fatCount = sector[16]!;
  const rootEntries = u16(sector, 17);
  const totalSectors = u16(sector, 19) || u32(sector, 32);
  const fatSectors = u16(sector, 22) || u32(sector, 36);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) throw notFat(`bytes per sector ${bytesPerSector}`);
  if (!isPowerOfTwo(sectorsPerCluster) || sectorsPerCluster > 128)
    throw notFat(`sectors per cluster ${sectorsPerCluster}`);
  if (reservedSectors < 1 || fatCount < 1 || fatSectors < 1 || totalSectors < 1)
    throw notFat('empty reserved area, FAT or volume');
  const type32 = u16(sector, 22) === 0;
  if (type32 && rootEntries !== 0) throw notFat('FAT32 with a fixed root directory');
  const rootDirBytes = Math.ceil((rootEntries * 32) / bytesPerSector) * bytesPerSector;
  const fatOffset = reservedSectors * bytesPerSector;
  const fatBytes = fatSectors * bytesPerSector;
  const rootDirOffset = fatOffset + fatCount * fatBytes;
  const dataOffset = rootDirOffset + rootDirBytes;
  const totalBytes = totalSectors * bytesPerSector;
  if (dataOffset >= totalBytes) throw notFat('no data area');
  if (totalBytes > deviceBytes) throw notFat(`volume of ${totalBytes} bytes on a ${deviceBytes}-byte device`);
  const clusterBytes = bytesPerSector * sectorsPerCluster;
  const clusterCount = Math.floor((totalBytes - dataOffset) / clusterBytes);
  const type: FatType = type32 ? 32 : clusterCount <= FAT12_MAX_CLUSTERS ? 12 : 16;
  const entryBits = type === 12 ? 1.5 : type === 16 ? 2 : 4;
  if (Math.ceil((clusterCount + 2) * entryBits) > fatBytes)
    throw notFat(`a FAT of ${fatBytes} bytes cannot map ${clusterCount} clusters`);
  const fsInfoSector = type === 32 ? u16(sector, 48) : 0;
  const labelAt = type === 32 ? 71 : 43;
  const hasExtendedBpb = sector[labelAt - 5] === 0x29;
  const label = hasExtendedBpb ? String.fromCharCode(...sector.subarray(labelAt, labelAt + 11)).trimEnd() : '';
  return {
    type,
    bytesPerSector,
    sectorsPerCluster,
    clusterBytes,
    reservedSectors,
    fatCount,
    fatBytes,
    fatOffset,
    rootDirOffset,
    rootDirBytes,
    rootCluster: type === 32 ? u32(sector, 44) : 0,
    dataOffset,
    clusterCount,
    totalBytes,
    fsInfoOffset: fsInfoSector > 0 && fsInfoSector < reservedSectors ? fsInfoSector * bytesPerSector : null,
    label: label === '' || label === 'NO NAME' ? null : label,
  };
}

/** Byte offset of a data cluster (numbered from 2). */
export function clusterOffset(g: FatGeometry, cluster: number): number {
  return g.dataOffset + (cluster - 2) * g.clusterBytes;
}
