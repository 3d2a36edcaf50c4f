import { createHash } from 'node:crypto';
import type { VerifyMode } from '../protocol/imaging.js';
import type { ManifestChunk } from '../protocol/manifest.js';

/** A span of a chunk to read back, relative to the chunk's start. */
export interface Span {
  from: number;
  to: number;
}

/** The bytes at each end of a chunk that sample mode always reads back. */
export const SAMPLE_EDGE_BYTES = 4096;
/** About one written chunk in this many is read back whole in sample mode. */
export const SAMPLE_WHOLE_ONE_IN = 16;

/** Which parts of each written chunk are read back to verify it. */
export type ReadBackPlan = (chunk: ManifestChunk) => Span[];

/**
 * `full`: the whole chunk. `sample`: the first and last 4 KiB of every chunk (where a write cut
 * short, misplaced or dropped shows first), and the whole of about one chunk in 16, chosen from
 * the board's serial and the chunk's index: the same chunks for a board every time, other chunks
 * on the next board, so a batch as a whole covers the image. Chunk 0 (the partition table and
 * the boot partition's start) is always read whole. Sample mode cannot see a bad block in the
 * middle of a chunk it did not pick whole, nor a card that returns stale data for such a block.
 */
export function readBackPlan(mode: VerifyMode, seed: string): ReadBackPlan {
  if (mode === 'full') return (c) => [{ from: 0, to: c.sizeBytes }];
  return (c) => {
    if (c.index === 0 || c.sizeBytes <= 2 * SAMPLE_EDGE_BYTES || pickedWhole(seed, c.index))
      return [{ from: 0, to: c.sizeBytes }];
    return [
      { from: 0, to: SAMPLE_EDGE_BYTES },
      { from: c.sizeBytes - SAMPLE_EDGE_BYTES, to: c.sizeBytes },
    ];
  };
}

/** Whether sample mode reads chunk `index` whole on the board `seed` names. */
export function pickedWhole(seed: string, index: number): boolean {
  return createHash('sha256').update(`${seed}:${index}`).digest()[0]! < 256 / SAMPLE_WHOLE_ONE_IN;
}
