import type { BlockReader } from '../lib/fat/index.js';
import type { ByteRange } from '../protocol/manifest.js';

/**
 * Which files of an ext2/3/4 filesystem have blocks in given byte ranges (the chunks two image
 * versions differ in). Two streaming passes, one block group at a time: the inode tables, keeping
 * only the inodes that touch the ranges and where each directory's blocks are; then the
 * directories, keeping only their names and parents. Memory grows with directories and matches,
 * never with files: at 471,963 files no list of all paths is ever held. Layouts:
 * Documentation/filesystems/ext4/{super,group_descr,inodes,ifork,directory}.rst.
 */

const EXT4_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;
const EXTENT_MAGIC = 0xf30a;
const FLAG_EXTENTS = 0x80000;
const FLAG_INLINE_DATA = 0x10000000;
const S_IFMT = 0xf000;
const S_IFDIR = 0x4000;
const S_IFLNK = 0xa000;
const ROOT_INODE = 2;

/** Files whose blocks overlap the ranges; `truncated` when more than `maxFiles` matched. */
export interface FilesInRanges {
  paths: string[];
  truncated: boolean;
}

/** What a superblock says about the filesystem's layout. */
export interface Ext4Geometry {
  blockBytes: number;
  blocksCount: number;
  inodesPerGroup: number;
  inodeBytes: number;
  groups: number;
  descBytes: number;
  firstDataBlock: number;
}

type Extent = [first: number, count: number];

/** The superblock's layout fields; null when `dev` holds no ext2/3/4. */
export async function readExt4Geometry(dev: BlockReader): Promise<Ext4Geometry | null> {
  if (dev.sizeBytes < 2048) return null;
  const sb = await dev.read(1024, 1024);
  const v = new DataView(sb.buffer, sb.byteOffset, sb.byteLength);
  if (v.getUint16(0x38, true) !== EXT4_MAGIC) return null;
  const logBlock = v.getUint32(0x18, true);
  if (logBlock > 6) return null;
  const is64 = (v.getUint32(0x60, true) & INCOMPAT_64BIT) !== 0;
  const blocksCount = v.getUint32(0x4, true) + (is64 ? v.getUint32(0x150, true) * 2 ** 32 : 0);
  const firstDataBlock = v.getUint32(0x14, true);
  const blocksPerGroup = v.getUint32(0x20, true);
  if (blocksPerGroup === 0) return null;
  return {
    blockBytes: 1024 << logBlock,
    blocksCount,
    inodesPerGroup: v.getUint32(0x28, true),
    inodeBytes: v.getUint32(0x4c, true) >= 1 ? v.getUint16(0x58, true) : 128,
    groups: Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup),
    descBytes: is64 ? v.getUint16(0xfe, true) : 32,
    firstDataBlock,
  };
}

/** A test whether the bytes [start, start + length) meet any of the ranges (sorted and merged here). */
function rangeTest(ranges: readonly ByteRange[]): (start: number, length: number) => boolean {
  const starts: number[] = [];
  const ends: number[] = [];
  for (const r of [...ranges].sort((a, b) => a.offsetBytes - b.offsetBytes)) {
    const end = r.offsetBytes + r.lengthBytes;
    if (ends.length > 0 && r.offsetBytes <= ends[ends.length - 1]!) ends[ends.length - 1] = Math.max(ends.at(-1)!, end);
    else {
      starts.push(r.offsetBytes);
      ends.push(end);
    }
  }
  return (start, length) => {
    let lo = 0;
    let hi = starts.length;
    // The first range ending after `start`; it meets the bytes when it starts before their end.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! <= start) lo = mid + 1;
      else hi = mid;
    }
    return lo < starts.length && starts[lo]! < start + length;
  };
}

/**
 * Inode fields that say which file an inode is and where its data lies (type and mode, size,
 * links, flags, block map, generation), not when it was last read or written: a removed file
 * keeps its data blocks untouched, only its inode says it is gone.
 */
const IDENTITY_FIELDS: readonly [offset: number, length: number][] = [
  [0x0, 8],
  [0x1a, 2],
  [0x20, 4],
  [0x28, 64],
  [0x6c, 4],
];

function sameIdentity(a: Uint8Array, b: Uint8Array): boolean {
  return IDENTITY_FIELDS.every(([at, n]) => Buffer.compare(a.subarray(at, at + n), b.subarray(at, at + n)) === 0);
}

/** Every block an inode owns: its data and the tree or indirect blocks that map them. */
async function inodeExtents(dev: BlockReader, g: Ext4Geometry, inode: DataView): Promise<Extent[]> {
  const flags = inode.getUint32(0x20, true);
  if (flags & FLAG_INLINE_DATA) return [];
  const iBlock = new DataView(inode.buffer, inode.byteOffset + 0x28, 60);
  const out: Extent[] = [];
  if (flags & FLAG_EXTENTS) {
    const walk = async (node: DataView, depth: number): Promise<void> => {
      if (node.getUint16(0, true) !== EXTENT_MAGIC || depth > 5) return;
      const entries = Math.min(node.getUint16(2, true), Math.floor((node.byteLength - 12) / 12));
      const level = node.getUint16(6, true);
      for (let i = 0; i < entries; i++) {
        const e = 12 + i * 12;
        if (level === 0) {
          const len = node.getUint16(e + 4, true);
          // Above 32768 the extent is preallocated, not written: its length is len - 32768.
          const count = len > 32768 ? len - 32768 : len;
          out.push([node.getUint16(e + 6, true) * 2 ** 32 + node.getUint32(e + 8, true), count]);
        } else {
          const child = node.getUint16(e + 8, true) * 2 ** 32 + node.getUint32(e + 4, true);
          if (child >= g.blocksCount) continue;
          out.push([child, 1]);
          const b = await dev.read(child * g.blockBytes, g.blockBytes);
          await walk(new DataView(b.buffer, b.byteOffset, b.byteLength), depth + 1);
        }
      }
    };
    await walk(iBlock, 0);
    return out;
  }
  const mode = inode.getUint16(0, true);
  // A short symlink keeps its target in i_block itself: no blocks.
  if ((mode & S_IFMT) === S_IFLNK && inode.getUint32(0x1c, true) === 0) return [];
  const perBlock = g.blockBytes / 4;
  const indirect = async (block: number, level: number): Promise<void> => {
    if (block === 0 || block >= g.blocksCount) return;
    out.push([block, 1]);
    if (level === 0) return;
    const b = await dev.read(block * g.blockBytes, g.blockBytes);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < perBlock; i++) {
      const child = v.getUint32(i * 4, true);
      if (child !== 0) await indirect(child, level - 1);
    }
  };
  for (let i = 0; i < 12; i++) {
    const b = iBlock.getUint32(i * 4, true);
    if (b !== 0) out.push([b, 1]);
  }
  for (let level = 1; level <= 3; level++) await indirect(iBlock.getUint32((11 + level) * 4, true), level - 1);
  return out;
}

/**
 * Paths (from the filesystem root, directories ending in `/`) of the files and directories with
 * a block in `ranges` (byte offsets within the filesystem). With `other`, the same filesystem in
 * another version, an inode in a changed range whose identity differs there is listed too: a
 * file removed, or rewritten, in the other version. Null when `dev` holds no ext2/3/4.
 */
export async function filesInRanges(
  dev: BlockReader,
  ranges: readonly ByteRange[],
  maxFiles = 10_000,
  other?: BlockReader,
): Promise<FilesInRanges | null> {
  const g = await readExt4Geometry(dev);
  if (!g) return null;
  if (ranges.length === 0) return { paths: [], truncated: false };
  const meets = rangeTest(ranges);
  const touches = ([first, count]: Extent) => meets(first * g.blockBytes, count * g.blockBytes);
  const gdtBytes = Math.ceil((g.groups * g.descBytes) / g.blockBytes) * g.blockBytes;
  const gdt = await dev.read((g.firstDataBlock + 1) * g.blockBytes, gdtBytes);
  const gv = new DataView(gdt.buffer, gdt.byteOffset, gdt.byteLength);

  const matched = new Set<number>();
  let truncated = false;
  const directories = new Map<number, Extent[]>();
  const tableBytes = g.inodesPerGroup * g.inodeBytes;
  for (let group = 0; group < g.groups; group++) {
    const d = group * g.descBytes;
    const hi = (o: number) => (g.descBytes >= 64 ? gv.getUint32(d + o, true) * 2 ** 32 : 0);
    const table = gv.getUint32(d + 8, true) + hi(0x28);
    // Inodes past the group's high-water mark were never used (itable_unused).
    const unused = gv.getUint16(d + 0x1c, true) + (g.descBytes >= 64 ? gv.getUint16(d + 0x32, true) * 65536 : 0);
    const live = Math.max(0, g.inodesPerGroup - unused);
    if (live === 0 || table >= g.blocksCount) continue;
    const bytes = await dev.read(table * g.blockBytes, Math.min(tableBytes, live * g.inodeBytes));
    for (let i = 0; i < live; i++) {
      const inode = new DataView(bytes.buffer, bytes.byteOffset + i * g.inodeBytes, g.inodeBytes);
      const mode = inode.getUint16(0, true);
      if (mode === 0 || inode.getUint16(0x1a, true) === 0) continue;
      const number = group * g.inodesPerGroup + i + 1;
      const extents = await inodeExtents(dev, g, inode);
      if ((mode & S_IFMT) === S_IFDIR) directories.set(number, extents);
      const slot = table * g.blockBytes + i * g.inodeBytes;
      const changedInode =
        other !== undefined &&
        meets(slot, g.inodeBytes) &&
        slot + g.inodeBytes <= other.sizeBytes &&
        !sameIdentity(bytes.subarray(i * g.inodeBytes, (i + 1) * g.inodeBytes), await other.read(slot, g.inodeBytes));
      if (changedInode || extents.some(touches)) {
        if (matched.size < maxFiles) matched.add(number);
        else truncated = true;
      }
    }
  }

  // Second pass: names. Each directory's parent and name, and the names of matched inodes.
  const parents = new Map<number, { parent: number; name: string }>();
  const names: { parent: number; name: string; inode: number }[] = [];
  const decoder = new TextDecoder();
  for (const [dir, extents] of directories) {
    for (const [first, count] of extents) {
      for (let b = first; b < first + count && b < g.blocksCount; b++) {
        const block = await dev.read(b * g.blockBytes, g.blockBytes);
        const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
        for (let at = 0; at + 8 <= block.length;) {
          const inode = v.getUint32(at, true);
          const recLen = v.getUint16(at + 4, true);
          const nameLen = v.getUint8(at + 6);
          if (recLen < 8 || at + recLen > block.length) break;
          if (inode !== 0 && nameLen > 0 && at + 8 + nameLen <= block.length) {
            const name = decoder.decode(block.subarray(at + 8, at + 8 + nameLen));
            if (name !== '.' && name !== '..') {
              if (directories.has(inode)) parents.set(inode, { parent: dir, name });
              if (matched.has(inode) && !directories.has(inode)) names.push({ parent: dir, name, inode });
            }
          }
          at += recLen;
        }
      }
    }
  }
  const pathOf = (dir: number): string => {
    const parts: string[] = [];
    for (let d = dir, hops = 0; d !== ROOT_INODE && hops < 4096; hops++) {
      const p = parents.get(d);
      if (!p) return `<inode ${dir}>`;
      parts.unshift(p.name);
      d = p.parent;
    }
    return `/${parts.join('/')}${parts.length > 0 ? '/' : ''}`;
  };
  const paths = names.map((n) => `${pathOf(n.parent)}${n.name}`);
  for (const inode of matched) if (directories.has(inode)) paths.push(pathOf(inode));
  return { paths: [...new Set(paths)].sort(), truncated };
}
