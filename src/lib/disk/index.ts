/**
 * What a disk holds and which of its bytes are used: partition table, FAT and ext2/3/4 allocation.
 * Shared by the server (image import) and the on-board agent (capture reads only the used bytes
 * of its own card), so like lib/fat it imports nothing but `lib/`, `protocol/` and Node built-ins.
 */
export { analyseDisk, detectOsGeneration, type Analysis } from './analyse.js';
export { mergeRanges, overlapsAny, shiftRanges, totalBytes, USED_RANGE_MERGE_GAP_BYTES } from './byte-ranges.js';
export { readExt4, type Ext4Info } from './ext4-used.js';
export { partitionPastEnd, readPartitionTable, type PartitionTable, type TableEntry } from './partitions.js';
