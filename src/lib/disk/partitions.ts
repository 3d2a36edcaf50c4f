import { crc32 } from 'node:zlib';
import type { BlockReader } from '../fat/index.js';
import type { ByteRange } from '../../protocol/manifest.js';

/** A partition as the table describes it, before its filesystem is looked at. */
export interface TableEntry {
  number: number;
  startBytes: number;
  sizeBytes: number;
  /** MBR type byte as two hex digits, or the GPT type GUID (lower case). */
  type: string;
  /** MBR extended partitions hold logical ones: counted as fully used, never looked into. */
  isContainer: boolean;
}

/** A disk's partition table: its kind, entries, and the bytes the table itself occupies. */
export interface PartitionTable {
  kind: 'mbr' | 'gpt' | 'none';
  entries: TableEntry[];
  /** What the table itself occupies (with GPT, the backup at the end too). */
  usedRanges: ByteRange[];
}

const SECTOR_BYTES = 512;
const MBR_EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
const MBR_PROTECTIVE_TYPE = 0xee;

const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);
const u64 = (b: Uint8Array, o: number) =>
  Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(o, true));

/**
 * Reads the partition table of a disk image: GPT when a protective MBR points to a valid GPT
 * header (the backup header is used if the primary is damaged), otherwise MBR primary entries.
 * Anything it cannot make sense of is `none`. Entries keep the sizes the table gives, also where
 * they run past the end of the image (see partitionPastEnd).
 */
export async function readPartitionTable(dev: BlockReader): Promise<PartitionTable> {
  if (dev.sizeBytes < SECTOR_BYTES) return { kind: 'none', entries: [], usedRanges: [] };
  const mbr = await dev.read(0, SECTOR_BYTES);
  if (mbr[510] !== 0x55 || mbr[511] !== 0xaa) return { kind: 'none', entries: [], usedRanges: [] };
  const raw = [0, 1, 2, 3].map((i) => mbr.subarray(446 + i * 16, 462 + i * 16));
  if (raw.some((e) => e[4] === MBR_PROTECTIVE_TYPE)) return readGpt(dev);
  const entries: TableEntry[] = [];
  for (const [i, e] of raw.entries()) {
    const type = e[4]!;
    const start = u32(e, 8) * SECTOR_BYTES;
    const size = u32(e, 12) * SECTOR_BYTES;
    if (type === 0 || size === 0) continue;
    // A boot flag other than 0x00/0x80 or a partition at sector 0: this sector is boot code, not a table.
    if ((e[0] !== 0 && e[0] !== 0x80) || start === 0) return { kind: 'none', entries: [], usedRanges: [] };
    // Sizes are kept as the table says, even past the end of a cut image: partitionPastEnd() refuses those.
    entries.push({
      number: i + 1,
      startBytes: start,
      sizeBytes: size,
      type: type.toString(16).padStart(2, '0'),
      isContainer: MBR_EXTENDED_TYPES.has(type),
    });
  }
  const firstStart = Math.min(dev.sizeBytes, ...entries.map((e) => e.startBytes));
  return { kind: 'mbr', entries, usedRanges: [{ offsetBytes: 0, lengthBytes: firstStart }] };
}

interface GptHeader {
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
  alternateLba: number;
}

async function readGptHeader(dev: BlockReader, lba: number): Promise<GptHeader | null> {
  if ((lba + 1) * SECTOR_BYTES > dev.sizeBytes) return null;
  const h = await dev.read(lba * SECTOR_BYTES, SECTOR_BYTES);
  if (String.fromCharCode(...h.subarray(0, 8)) !== 'EFI PART') return null;
  const size = u32(h, 12);
  if (size < 92 || size > SECTOR_BYTES) return null;
  const copy = new Uint8Array(h.subarray(0, size));
  copy.fill(0, 16, 20);
  if (crc32(copy) !== u32(h, 16)) return null;
  const header = {
    entriesLba: u64(h, 72),
    entryCount: u32(h, 80),
    entrySize: u32(h, 84),
    entriesCrc: u32(h, 88),
    alternateLba: u64(h, 32),
  };
  if (header.entrySize < 128 || header.entrySize % 8 !== 0 || header.entryCount > 4096) return null;
  return header;
}

function formatGuid(b: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const bytes = Array.from(b.subarray(from, to));
    return (reverse ? bytes.reverse() : bytes).map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

async function readGpt(dev: BlockReader): Promise<PartitionTable> {
  const lastLba = Math.floor(dev.sizeBytes / SECTOR_BYTES) - 1;
  const primary = await readGptHeader(dev, 1);
  const header = primary ?? (await readGptHeader(dev, lastLba));
  const wholeDisk: PartitionTable = {
    kind: 'gpt',
    entries: [],
    usedRanges: [{ offsetBytes: 0, lengthBytes: dev.sizeBytes }],
  };
  if (!header) return wholeDisk;
  const arrayBytes = header.entryCount * header.entrySize;
  if (header.entriesLba * SECTOR_BYTES + arrayBytes > dev.sizeBytes) return wholeDisk;
  const array = await dev.read(header.entriesLba * SECTOR_BYTES, arrayBytes);
  if (crc32(array) !== header.entriesCrc) return wholeDisk;
  const entries: TableEntry[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const e = array.subarray(i * header.entrySize, (i + 1) * header.entrySize);
    if (e.subarray(0, 16).every((x) => x === 0)) continue;
    const first = u64(e, 32);
    const last = u64(e, 40);
    if (last < first) continue;
    entries.push({
      number: i + 1,
      startBytes: first * SECTOR_BYTES,
      sizeBytes: (last - first + 1) * SECTOR_BYTES,
      type: formatGuid(e.subarray(0, 16)),
      isContainer: false,
    });
  }
  const firstStart = Math.min(dev.sizeBytes, ...entries.map((e) => e.startBytes));
  const used: ByteRange[] = [{ offsetBytes: 0, lengthBytes: firstStart }];
  // The backup array and header sit at the end of the disk (where the primary header says).
  const backupLba = primary ? primary.alternateLba - Math.ceil(arrayBytes / SECTOR_BYTES) : header.entriesLba;
  const backupFrom = Math.max(0, Math.min(backupLba, lastLba) * SECTOR_BYTES);
  used.push({ offsetBytes: backupFrom, lengthBytes: dev.sizeBytes - backupFrom });
  return { kind: 'gpt', entries, usedRanges: used };
}

/** The first partition that does not lie wholly inside an image of `sizeBytes` (a cut download), if any. */
export function partitionPastEnd(table: PartitionTable, sizeBytes: number): TableEntry | undefined {
  return table.entries.find((e) => e.startBytes + e.sizeBytes > sizeBytes);
}
