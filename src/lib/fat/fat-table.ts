import type { FatType } from './boot-sector.js';
import { FatError } from './errors.js';

/**
 * Pure operations on one copy of the file allocation table held in memory. Entry values follow
 * the Microsoft FAT specification §4: 0 is free, ≥ 0x…FF8 ends a chain, 0x…FF7 is a bad cluster;
 * FAT32 entries are 28 bits and the top 4 bits are preserved on write.
 */
export interface FatTable {
  readonly type: FatType;
  readonly bytes: Uint8Array;
  /** Valid cluster numbers are 2 … clusterCount + 1. */
  readonly clusterCount: number;
}

const END_OF_CHAIN: Record<FatType, number> = { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff };
const FIRST_END: Record<FatType, number> = { 12: 0xff8, 16: 0xfff8, 32: 0x0ffffff8 };
const BAD: Record<FatType, number> = { 12: 0xff7, 16: 0xfff7, 32: 0x0ffffff7 };

/** Entry `n` of the table (0 free, next cluster, or end of chain). */
export function getEntry(t: FatTable, n: number): number {
  const b = t.bytes;
  if (t.type === 16) return b[n * 2]! | (b[n * 2 + 1]! << 8);
  if (t.type === 32)
    return (b[n * 4]! | (b[n * 4 + 1]! << 8) | (b[n * 4 + 2]! << 16) | (b[n * 4 + 3]! << 24)) & 0x0fffffff;
  const o = Math.floor(n * 1.5);
  const pair = b[o]! | (b[o + 1]! << 8);
  return n % 2 === 0 ? pair & 0xfff : pair >> 4;
}

/** Sets entry `n`; the caller records which bytes changed (entryByteRange). */
export function setEntry(t: FatTable, n: number, value: number): void {
  const b = t.bytes;
  if (t.type === 16) {
    b[n * 2] = value & 0xff;
    b[n * 2 + 1] = (value >> 8) & 0xff;
  } else if (t.type === 32) {
    const v = ((b[n * 4 + 3]! & 0xf0) << 24) | (value & 0x0fffffff);
    for (let i = 0; i < 4; i++) b[n * 4 + i] = (v >>> (8 * i)) & 0xff;
  } else {
    const o = Math.floor(n * 1.5);
    if (n % 2 === 0) {
      b[o] = value & 0xff;
      b[o + 1] = (b[o + 1]! & 0xf0) | ((value >> 8) & 0x0f);
    } else {
      b[o] = (b[o]! & 0x0f) | ((value << 4) & 0xf0);
      b[o + 1] = (value >> 4) & 0xff;
    }
  }
}

/** Byte offsets within the table touched by entry n (for writing back only what changed). */
export function entryByteRange(t: FatTable, n: number): [number, number] {
  if (t.type === 12) return [Math.floor(n * 1.5), Math.floor(n * 1.5) + 2];
  const width = t.type / 8;
  return [n * width, n * width + width];
}

/** The end-of-chain value written for a chain's last cluster. */
export function endOfChain(type: FatType): number {
  return END_OF_CHAIN[type];
}

/** True for any value that ends a chain (≥ 0x…FF8). */
export function isEndOfChain(t: FatTable, value: number): boolean {
  return value >= FIRST_END[t.type];
}

const isValidCluster = (t: FatTable, n: number) => n >= 2 && n <= t.clusterCount + 1;

/**
 * The clusters of a chain in order. A chain that points outside the volume, at a free or bad
 * cluster, or back into itself is corrupt: an error, never a silently shortened file.
 */
export function chainOf(t: FatTable, first: number): number[] {
  if (first === 0) return [];
  const chain: number[] = [];
  let n = first;
  for (;;) {
    if (!isValidCluster(t, n))
      throw corrupt(`chain starting at cluster ${first} reaches cluster ${n}, outside the volume`, first);
    chain.push(n);
    if (chain.length > t.clusterCount) throw corrupt(`chain starting at cluster ${first} loops`, first);
    const next = getEntry(t, n);
    if (isEndOfChain(t, next)) return chain;
    if (next === 0 || next === BAD[t.type])
      throw corrupt(`chain starting at cluster ${first} runs into a ${next === 0 ? 'free' : 'bad'} cluster`, first);
    n = next;
  }
}

function corrupt(message: string, cluster: number): FatError {
  return new FatError('FAT_CORRUPT', `FAT is corrupt: ${message}`, { cluster });
}

/** Runs of allocated (non-free) clusters as [first, count] pairs, in order. */
export function allocatedRuns(t: FatTable): [number, number][] {
  const runs: [number, number][] = [];
  for (let n = 2; n <= t.clusterCount + 1; n++) {
    if (getEntry(t, n) === 0) continue;
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === n) last[1]++;
    else runs.push([n, 1]);
  }
  return runs;
}

/** Number of free clusters (what FSInfo records). */
export function countFree(t: FatTable): number {
  let free = 0;
  for (let n = 2; n <= t.clusterCount + 1; n++) if (getEntry(t, n) === 0) free++;
  return free;
}

/**
 * Takes `count` free clusters, searching from `hint` and wrapping, and returns them; the
 * caller links them. Throws FAT_NO_SPACE without touching the table when too few are free.
 */
export function findFree(t: FatTable, count: number, hint = 2): number[] {
  const found: number[] = [];
  const start = isValidCluster(t, hint) ? hint : 2;
  for (let i = 0; i < t.clusterCount && found.length < count; i++) {
    const n = 2 + ((start - 2 + i) % t.clusterCount);
    if (getEntry(t, n) === 0) found.push(n);
  }
  if (found.length < count) {
    throw new FatError('FAT_NO_SPACE', `The FAT volume has ${found.length} free clusters, ${count} are needed`, {
      free: found.length,
      needed: count,
    });
  }
  return found;
}
