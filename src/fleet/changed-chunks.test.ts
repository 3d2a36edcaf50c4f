import { describe, expect, it } from 'vitest';
import type { Manifest, ManifestChunk } from '../protocol/manifest.js';
import { changedChunks } from './changed-chunks.js';

const CHUNK = 4096;
/** A manifest whose chunk i holds `hashes[i]` (a letter), unused where the letter is `-`. */
function manifest(hashes: string, chunkSizeBytes = CHUNK): Manifest {
  const chunks: ManifestChunk[] = [...hashes].map((h, index) => ({
    index,
    offsetBytes: index * chunkSizeBytes,
    sizeBytes: chunkSizeBytes,
    storedBytes: chunkSizeBytes,
    sha256: (h === '-' ? '0' : h).repeat(64),
    storedSha256: (h === '-' ? '0' : h).repeat(64),
    used: h !== '-',
  }));
  return {
    format: 1,
    imageId: 1,
    product: 'KXP2',
    version: '1',
    sizeBytes: hashes.length * chunkSizeBytes,
    sha256: 'f'.repeat(64),
    chunkSizeBytes,
    chunks,
    partitionTable: 'mbr',
    partitions: [],
    usedRanges: [],
    usedBytes: 0,
    boot: null,
  };
}

describe('changedChunks (the delta hint)', () => {
  it('names the used chunks whose hash differs or that were unused before, as ranges', () => {
    expect(changedChunks(manifest('aaaaaaaa'), manifest('abbaa-ba'))).toEqual([
      [1, 2],
      [6, 6],
    ]);
    expect(changedChunks(manifest('aa--aaaa'), manifest('aaaaaaaa'))).toEqual([[2, 3]]);
  });

  it('runs a range on across chunks the new image does not use', () => {
    expect(changedChunks(manifest('aaaaaa'), manifest('ab--ba'))).toEqual([[1, 4]]);
    expect(changedChunks(manifest('aaaaaa'), manifest('ab-aba'))).toEqual([
      [1, 1],
      [4, 4],
    ]);
  });

  it('the same image: nothing changed; every chunk changed: one range', () => {
    expect(changedChunks(manifest('abcd'), manifest('abcd'))).toEqual([]);
    expect(changedChunks(manifest('aaaa'), manifest('bbbbbb'))).toEqual([[0, 5]]);
  });

  it('no hint when the chunk size differs', () => {
    expect(changedChunks(manifest('aaaa', 2 * CHUNK), manifest('aaaa'))).toBeUndefined();
  });
});
