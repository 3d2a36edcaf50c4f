import { clusterOffset, parseBootSector, type FatGeometry } from './boot-sector.js';
import { isWritable, type BlockDevice, type BlockReader } from './block-device.js';
import {
  ATTR_ARCHIVE,
  ENTRY_BYTES,
  encodeEntries,
  parseDirectory,
  shortNameFor,
  slotsFor,
  updateShortEntry,
  type DirEntry,
} from './directory.js';
import { FatError } from './errors.js';
import {
  allocatedRuns,
  chainOf,
  countFree,
  endOfChain,
  entryByteRange,
  findFree,
  setEntry,
  type FatTable,
} from './fat-table.js';
import { splitFatPath } from './path.js';

/** A file or directory found in a FAT volume. */
export interface FatFile {
  /** `/`-separated path from the volume root, as the long names spell it. */
  path: string;
  sizeBytes: number;
  isDirectory: boolean;
}

/** A byte range of the volume, relative to its start. */
export interface VolumeRange {
  offsetBytes: number;
  lengthBytes: number;
}

/** A FAT12/16/32 volume read (and, on a writable device, written) in userspace. */
export interface FatVolume {
  readonly geometry: FatGeometry;
  /** The names in one directory (`''` is the root). */
  list(dirPath?: string): Promise<FatFile[]>;
  /** Every file and directory, depth first, in directory order. */
  walk(): Promise<FatFile[]>;
  /** Null when nothing has that name (names compare case-insensitively, as FAT does). */
  stat(path: string): Promise<FatFile | null>;
  readFile(path: string): Promise<Uint8Array>;
  /**
   * What the volume uses: boot sector and reserved area, every FAT copy, the FAT12/16 root
   * directory and every allocated cluster (merged runs). The rest of the data area is free.
   */
  usedRanges(): VolumeRange[];
  /**
   * Replaces a file's contents or creates it in an existing directory (8.3 and long names).
   * Data is written first, then the FATs and FSInfo, then the directory entry.
   */
  writeFile(path: string, data: Uint8Array, options?: { modifiedAt?: Date }): Promise<void>;
}

interface Dir {
  /** Device offsets of each run of directory bytes: the fixed root region or one per cluster. */
  regions: VolumeRange[];
  clusters: number[];
  bytes: Uint8Array;
  entries: DirEntry[];
}

/** Opens a FAT volume: reads its boot sector and first FAT (kept in memory, written back on change). */
export async function openFatVolume(dev: BlockReader): Promise<FatVolume> {
  const g = parseBootSector(await dev.read(0, Math.min(4096, dev.sizeBytes)), dev.sizeBytes);
  const loadFat = async (): Promise<FatTable> => ({
    type: g.type,
    bytes: await dev.read(g.fatOffset, g.fatBytes),
    clusterCount: g.clusterCount,
  });
  let fat = await loadFat();
  const dirtyFat = new Set<number>();
  let nextFreeHint = 2;

  async function readChain(clusters: number[]): Promise<Uint8Array> {
    const out = new Uint8Array(clusters.length * g.clusterBytes);
    // Contiguous clusters are read in one call: files on a fresh volume are rarely fragmented.
    for (let i = 0; i < clusters.length;) {
      let run = 1;
      while (i + run < clusters.length && clusters[i + run] === clusters[i]! + run) run++;
      out.set(await dev.read(clusterOffset(g, clusters[i]!), run * g.clusterBytes), i * g.clusterBytes);
      i += run;
    }
    return out;
  }

  async function loadDir(firstCluster: number | null): Promise<Dir> {
    if (firstCluster === null && g.type !== 32) {
      const bytes = await dev.read(g.rootDirOffset, g.rootDirBytes);
      return {
        regions: [{ offsetBytes: g.rootDirOffset, lengthBytes: g.rootDirBytes }],
        clusters: [],
        bytes,
        entries: parseDirectory(bytes),
      };
    }
    const clusters = chainOf(fat, firstCluster ?? g.rootCluster);
    const bytes = await readChain(clusters);
    return {
      regions: clusters.map((c) => ({ offsetBytes: clusterOffset(g, c), lengthBytes: g.clusterBytes })),
      clusters,
      bytes,
      entries: parseDirectory(bytes),
    };
  }

  const sameName = (e: DirEntry, name: string) =>
    e.name.toUpperCase() === name.toUpperCase() || shortDisplay(e.shortName) === name.toUpperCase();

  /** The directory at `parts` (the root for none); throws if a part is missing or a file. */
  async function dirAt(parts: string[], path: string): Promise<Dir> {
    let dir = await loadDir(null);
    for (const part of parts) {
      const e = dir.entries.find((x) => sameName(x, part));
      if (!e) throw new FatError('FAT_NOT_FOUND', `No directory ${JSON.stringify(path)} in the FAT volume`, { path });
      if (!e.isDirectory)
        throw new FatError('FAT_NOT_A_DIRECTORY', `${JSON.stringify(path)} is a file, not a directory`, { path });
      dir = await loadDir(e.firstCluster === 0 ? null : e.firstCluster);
    }
    return dir;
  }

  async function lookup(
    path: string,
  ): Promise<{ dir: Dir; entry: DirEntry | undefined; name: string; parentParts: string[] }> {
    const parts = splitFatPath(path);
    const name = parts.pop();
    if (name === undefined) throw new FatError('FAT_PATH_INVALID', 'An empty path names no file', { path });
    const dir = await dirAt(parts, path);
    return { dir, entry: dir.entries.find((x) => sameName(x, name)), name, parentParts: parts };
  }

  const toFile = (prefix: string[], e: DirEntry): FatFile => ({
    path: [...prefix, e.name].join('/'),
    sizeBytes: e.isDirectory ? 0 : e.sizeBytes,
    isDirectory: e.isDirectory,
  });

  function deviceOffsetOfSlot(dir: Dir, slot: number): number {
    let at = slot * ENTRY_BYTES;
    for (const r of dir.regions) {
      if (at < r.lengthBytes) return r.offsetBytes + at;
      at -= r.lengthBytes;
    }
    throw new Error(`slot ${slot} beyond its directory`); // callers only pass slots they found or made room for
  }

  function writable(): BlockDevice {
    if (!isWritable(dev)) throw new FatError('FAT_READ_ONLY', 'The FAT volume was opened on a read-only device', {});
    return dev;
  }

  function setFat(n: number, value: number): void {
    setEntry(fat, n, value);
    const [from, to] = entryByteRange(fat, n);
    for (let b = from; b < to; b++) dirtyFat.add(Math.floor(b / g.bytesPerSector));
  }

  /** Grows or shrinks a chain to `count` clusters; returns the new chain (first cluster 0 if empty). */
  function resizeChain(chain: number[], count: number): number[] {
    if (chain.length > count) {
      for (const n of chain.slice(count)) setFat(n, 0);
      if (count > 0) setFat(chain[count - 1]!, endOfChain(g.type));
      return chain.slice(0, count);
    }
    const added = findFree(fat, count - chain.length, nextFreeHint);
    const out = [...chain, ...added];
    for (let i = chain.length; i < out.length; i++)
      setFat(out[i]!, i + 1 < out.length ? out[i + 1]! : endOfChain(g.type));
    if (chain.length > 0 && added.length > 0) setFat(chain[chain.length - 1]!, added[0]!);
    if (added.length > 0) nextFreeHint = added[added.length - 1]! + 1;
    return out;
  }

  async function writeClusters(chain: number[], data: Uint8Array): Promise<void> {
    const d = writable();
    for (let i = 0; i < chain.length; i++) {
      const block = new Uint8Array(g.clusterBytes);
      block.set(data.subarray(i * g.clusterBytes, (i + 1) * g.clusterBytes));
      await d.write(clusterOffset(g, chain[i]!), block);
    }
  }

  /** Writes changed FAT sectors to every copy, then FSInfo (free count recomputed, never guessed). */
  async function flushFat(): Promise<void> {
    const d = writable();
    for (const sector of [...dirtyFat].sort((a, b) => a - b)) {
      const bytes = fat.bytes.subarray(sector * g.bytesPerSector, (sector + 1) * g.bytesPerSector);
      for (let copy = 0; copy < g.fatCount; copy++)
        await d.write(g.fatOffset + copy * g.fatBytes + sector * g.bytesPerSector, bytes);
    }
    dirtyFat.clear();
    if (g.fsInfoOffset !== null) {
      const info = await d.read(g.fsInfoOffset, 512);
      const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
      if (view.getUint32(0, true) === 0x41615252 && view.getUint32(484, true) === 0x61417272) {
        view.setUint32(488, countFree(fat), true);
        view.setUint32(492, nextFreeHint <= g.clusterCount + 1 ? nextFreeHint : 2, true);
        await d.write(g.fsInfoOffset, info);
      }
    }
  }

  /** Makes room for `slots` consecutive free entries, growing a cluster-chained directory if needed. */
  async function freeSlots(dir: Dir, slots: number): Promise<number> {
    const total = dir.bytes.length / ENTRY_BYTES;
    let run = 0;
    for (let s = 0; s < total; s++) {
      const first = dir.bytes[s * ENTRY_BYTES];
      if (first === 0) {
        // Everything from the end marker on is free.
        if (total - s >= slots) return s - run;
        run += total - s;
        break;
      }
      run = first === 0xe5 ? run + 1 : 0;
      if (run === slots) return s - slots + 1;
    }
    if (dir.clusters.length === 0)
      throw new FatError('FAT_DIRECTORY_FULL', 'The FAT12/16 root directory is full', { slots });
    const start = total - run;
    const needBytes = (start + slots) * ENTRY_BYTES - dir.bytes.length;
    const grown = resizeChain(dir.clusters, dir.clusters.length + Math.ceil(needBytes / g.clusterBytes));
    const added = grown.slice(dir.clusters.length);
    await writeClusters(added, new Uint8Array(0));
    dir.clusters.push(...added);
    dir.regions.push(...added.map((c) => ({ offsetBytes: clusterOffset(g, c), lengthBytes: g.clusterBytes })));
    const bytes = new Uint8Array(dir.bytes.length + added.length * g.clusterBytes);
    bytes.set(dir.bytes);
    dir.bytes = bytes;
    return start;
  }

  async function writeSlots(dir: Dir, firstSlot: number, data: Uint8Array): Promise<void> {
    const d = writable();
    for (let i = 0; i < data.length / ENTRY_BYTES; i++) {
      await d.write(deviceOffsetOfSlot(dir, firstSlot + i), data.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES));
    }
  }

  async function replaceOrCreate(path: string, data: Uint8Array, modifiedAt: Date): Promise<void> {
    const { dir, entry, name } = await lookup(path);
    if (entry?.isDirectory) throw new FatError('FAT_IS_DIRECTORY', `${JSON.stringify(path)} is a directory`, { path });
    const need = Math.ceil(data.length / g.clusterBytes);
    if (entry) {
      const chain = resizeChain(chainOf(fat, entry.firstCluster), need);
      await writeClusters(chain, data);
      await flushFat();
      const short = new Uint8Array(
        dir.bytes.subarray(entry.shortSlot * ENTRY_BYTES, (entry.shortSlot + 1) * ENTRY_BYTES),
      );
      updateShortEntry(short, { firstCluster: chain[0] ?? 0, sizeBytes: data.length, modifiedAt });
      await writeSlots(dir, entry.shortSlot, short);
      return;
    }
    const { short11, needsLfn } = shortNameFor(name, new Set(dir.entries.map((e) => e.shortName)));
    const slot = await freeSlots(dir, slotsFor(name, needsLfn));
    const chain = resizeChain([], need);
    await writeClusters(chain, data);
    await flushFat();
    await writeSlots(
      dir,
      slot,
      encodeEntries({
        name,
        short11,
        needsLfn,
        attributes: ATTR_ARCHIVE,
        firstCluster: chain[0] ?? 0,
        sizeBytes: data.length,
        modifiedAt,
      }),
    );
  }

  const volume: FatVolume = {
    geometry: g,

    async list(dirPath = '') {
      const parts = splitFatPath(dirPath);
      return (await dirAt(parts, dirPath)).entries.map((e) => toFile(parts, e));
    },

    async walk() {
      const out: FatFile[] = [];
      const visit = async (dir: Dir, prefix: string[], depth: number) => {
        if (depth > 32)
          throw new FatError('FAT_CORRUPT', `Directories nest deeper than 32 levels under ${prefix.join('/')}`, {
            path: prefix.join('/'),
          });
        for (const e of dir.entries) {
          out.push(toFile(prefix, e));
          if (e.isDirectory && e.firstCluster !== 0)
            await visit(await loadDir(e.firstCluster), [...prefix, e.name], depth + 1);
        }
      };
      await visit(await loadDir(null), [], 0);
      return out;
    },

    async stat(path) {
      try {
        const { entry, parentParts } = await lookup(path);
        return entry ? toFile(parentParts, entry) : null;
      } catch (e) {
        if (e instanceof FatError && (e.code === 'FAT_NOT_FOUND' || e.code === 'FAT_NOT_A_DIRECTORY')) return null;
        throw e;
      }
    },

    async readFile(path) {
      const { entry } = await lookup(path);
      if (!entry) throw new FatError('FAT_NOT_FOUND', `No file ${JSON.stringify(path)} in the FAT volume`, { path });
      if (entry.isDirectory) throw new FatError('FAT_IS_DIRECTORY', `${JSON.stringify(path)} is a directory`, { path });
      const chain = chainOf(fat, entry.firstCluster);
      if (chain.length !== Math.ceil(entry.sizeBytes / g.clusterBytes)) {
        throw new FatError(
          'FAT_CORRUPT',
          `FAT is corrupt: ${path} is ${entry.sizeBytes} bytes but its chain has ${chain.length} clusters`,
          { path },
        );
      }
      return (await readChain(chain)).subarray(0, entry.sizeBytes);
    },

    usedRanges() {
      const ranges: VolumeRange[] = [{ offsetBytes: 0, lengthBytes: g.dataOffset }];
      for (const [first, count] of allocatedRuns(fat)) {
        const offsetBytes = clusterOffset(g, first);
        const last = ranges[ranges.length - 1]!;
        if (last.offsetBytes + last.lengthBytes === offsetBytes) last.lengthBytes += count * g.clusterBytes;
        else ranges.push({ offsetBytes, lengthBytes: count * g.clusterBytes });
      }
      return ranges;
    },

    async writeFile(path, data, options = {}) {
      writable();
      try {
        await replaceOrCreate(path, data, options.modifiedAt ?? new Date());
      } catch (e) {
        // Nothing reaches the on-disk FAT before the data is in place; forget what was planned.
        fat = await loadFat();
        dirtyFat.clear();
        throw e;
      }
    },
  };
  return volume;
}

/** `CMDLINE TXT` → `CMDLINE.TXT`, for matching a name typed without its long form. */
function shortDisplay(short11: string): string {
  const base = short11.slice(0, 8).trimEnd();
  const ext = short11.slice(8).trimEnd();
  return ext ? `${base}.${ext}` : base;
}
