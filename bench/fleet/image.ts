/**
 * The fleet lab's image: the seed's golden image (a 27 GB root, 25 GB of it used, on a 32 GB
 * card) shrunk by the lab's size factor, Raspberry Pi OS-shaped, its root filled with real files
 * from this machine's /usr (binaries, libraries, text) taken in turn from each source, so that it
 * compresses about 3× like a real OS rather than like synthetic fill.
 */
import { copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { piImage, type BenchImage } from '../large-pi-image.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;
/** Binaries, libraries, documentation and data, in turn, as a Raspberry Pi OS root holds them. */
const ROOT_SOURCES = [
  '/usr/bin',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/share/doc',
  '/usr/lib/python3',
  '/usr/share/locale',
  '/usr/share/perl',
  '/usr/libexec',
  '/usr/share/i18n',
];
/** Share of the root's blocks (less the journal) given to file data; inode tables and directories take part of the rest. */
const FILE_SHARE = 0.87;
/** Files larger than this would make the scaled image one file; a real root has many. */
const MAX_FILE_BYTES = 8 * MiB;

/** Full-scale sizes of the seed's golden image (issue 16). */
export const FULL_IMAGE = { bootBytes: 512 * MiB, rootBytes: 27e9, usedBytes: 25e9, cardBytes: 32e9 };

const roundMiB = (bytes: number) => Math.max(1, Math.round(bytes / MiB)) * MiB;

export interface FleetImage extends BenchImage {
  cardBytes: number;
}

export function fleetImage(sizeFactor: number): FleetImage {
  const bootBytes = Math.max(4 * MiB, roundMiB(FULL_IMAGE.bootBytes / sizeFactor));
  const rootBytes = roundMiB(FULL_IMAGE.rootBytes / sizeFactor);
  const image = piImage({
    name: `fleet-${rootBytes / MiB}m.img`,
    bootBytes,
    rootBytes,
    fillRoot: (tree) => fillRoot(tree, (rootBytes - journalBytes(rootBytes)) * FILE_SHARE),
  });
  return { ...image, cardBytes: Math.max(roundMiB(FULL_IMAGE.cardBytes / sizeFactor), image.sizeBytes + 4 * MiB) };
}

/** The journal mke2fs gives a filesystem this size (e2fsprogs' ext2fs_default_journal_size, 4 KiB blocks). */
function journalBytes(rootBytes: number): number {
  const blocks = rootBytes / BLOCK;
  const journalBlocks = blocks < 32768 ? 1024 : blocks < 256 * 1024 ? 4096 : blocks < 512 * 1024 ? 8192 : 16384;
  return journalBlocks * BLOCK;
}

/** Hard-links files from the sources in turn (one from each, round robin) until `budgetBytes` of blocks are taken. */
function fillRoot(tree: string, budgetBytes: number): void {
  const lists = ROOT_SOURCES.map((src) => filesUnder(src));
  let taken = 0;
  for (let i = 0; lists.some((l) => i < l.length); i++) {
    for (const list of lists) {
      const file = list[i];
      if (!file) continue;
      const blocks = Math.ceil(file.sizeBytes / BLOCK) * BLOCK;
      if (taken + blocks > budgetBytes) continue;
      const to = join(tree, file.path);
      mkdirSync(dirname(to), { recursive: true });
      try {
        linkSync(file.path, to);
      } catch {
        copyFileSync(file.path, to);
      }
      taken += blocks;
    }
  }
}

function filesUnder(root: string): { path: string; sizeBytes: number }[] {
  const out: { path: string; sizeBytes: number }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && st.size > 0 && st.size <= MAX_FILE_BYTES) out.push({ path, sizeBytes: st.size });
    }
  };
  walk(root);
  return out;
}
