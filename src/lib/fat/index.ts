/**
 * FAT12/16/32 in userspace: read a boot partition (list, read, allocation) and write the few
 * files first-boot customisation needs, on anything that reads and writes at an offset. Shared
 * by the server and the on-board agent, so it imports nothing but `lib/` and Node built-ins.
 */
export { openFatVolume, type FatVolume, type FatFile, type VolumeRange } from './volume.js';
export { parseBootSector, type FatGeometry, type FatType } from './boot-sector.js';
export {
  bufferDevice,
  fileDevice,
  sliceDevice,
  isWritable,
  type BlockDevice,
  type BlockReader,
} from './block-device.js';
export { splitFatPath } from './path.js';
export { FatError, type FatErrorCode } from './errors.js';
