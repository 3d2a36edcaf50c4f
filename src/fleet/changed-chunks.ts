import type { ChangedChunks } from '../protocol/imaging.js';
import type { Manifest } from '../protocol/manifest.js';

/**
 * The used chunks of `next` that differ from `last`, the image the server last wrote to a board:
 * a chunk is unchanged only when `last` used it too, at the same offset and size, with the same raw
 * SHA-256. Ranges run on across chunks `next` does not use, which keeps an update's hint to a few
 * ranges. Undefined when the chunk sizes differ: then no chunk lines up with one of `last`.
 */
export function changedChunks(last: Manifest, next: Manifest): ChangedChunks | undefined {
  if (last.chunkSizeBytes !== next.chunkSizeBytes) return undefined;
  const ranges: ChangedChunks = [];
  let previousUsed = -1;
  for (const c of next.chunks) {
    if (!c.used) continue;
    const before = last.chunks[c.index];
    const same =
      before?.used === true &&
      before.offsetBytes === c.offsetBytes &&
      before.sizeBytes === c.sizeBytes &&
      before.sha256 === c.sha256;
    if (!same) {
      const tail = ranges.at(-1);
      if (tail && tail[1] === previousUsed) tail[1] = c.index;
      else ranges.push([c.index, c.index]);
    }
    previousUsed = c.index;
  }
  return ranges;
}
