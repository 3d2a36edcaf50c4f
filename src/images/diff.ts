import { sliceDevice, type BlockReader } from '../lib/fat/index.js';
import type { ImageDiff } from '../protocol/image-diff.js';
import type { Image } from '../protocol/images.js';
import type { ByteRange, ImageLayout } from '../protocol/manifest.js';
import { mergeRanges } from '../lib/disk/index.js';
import { filesInRanges } from './ext4-files.js';

/** One image of a comparison: its record, layout and random access to its bytes. */
export interface DiffSide {
  image: Image;
  layout: ImageLayout;
  device: BlockReader;
}

/** At most this many paths per partition: a whole new OS release would list every file. */
export const MAX_DIFF_FILES = 5000;

/** Granularity of the comparison inside a differing chunk: an ext4 block. */
const COMPARE_BYTES = 4096;

/** The 4 KiB blocks of one chunk that differ between the two images, as merged ranges. */
async function changedBlocks(a: BlockReader, b: BlockReader, offsetBytes: number, lengthBytes: number) {
  const [x, y] = await Promise.all([a.read(offsetBytes, lengthBytes), b.read(offsetBytes, lengthBytes)]);
  const out: ByteRange[] = [];
  for (let at = 0; at < lengthBytes; at += COMPARE_BYTES) {
    const end = Math.min(at + COMPARE_BYTES, lengthBytes);
    if (Buffer.compare(x.subarray(at, end), y.subarray(at, end)) === 0) continue;
    const last = out.at(-1);
    if (last && last.offsetBytes + last.lengthBytes === offsetBytes + at) last.lengthBytes += end - at;
    else out.push({ offsetBytes: offsetBytes + at, lengthBytes: end - at });
  }
  return out;
}

const side = ({ image }: DiffSide) => ({
  id: image.id,
  product: image.product,
  version: image.version,
  sizeBytes: image.sizeBytes,
});

/**
 * Compares `to` with `from` chunk by chunk at the same offsets, then names the files of each ext4
 * partition (in both versions: changed, added and removed files) with a block that differs:
 * inside a differing chunk the two versions are compared block by block, so a file that merely
 * shares a chunk with a change is not listed.
 */
export async function diffImages(from: DiffSide, to: DiffSide): Promise<ImageDiff> {
  const fromChunks = from.layout.chunks;
  const changed: ByteRange[] = [];
  let differingChunks = 0;
  let differingBytes = 0;
  let differingUsedChunks = 0;
  let differingUsedBytes = 0;
  const chunkCount = Math.max(fromChunks.length, to.layout.chunks.length);
  for (let i = 0; i < chunkCount; i++) {
    const a = fromChunks[i];
    const b = to.layout.chunks[i];
    if (a && b && a.sha256 === b.sha256 && a.offsetBytes === b.offsetBytes) continue;
    const c = b ?? a!;
    differingChunks++;
    if (a && b && a.offsetBytes === b.offsetBytes && a.sizeBytes === b.sizeBytes)
      changed.push(...(await changedBlocks(from.device, to.device, b.offsetBytes, b.sizeBytes)));
    else changed.push({ offsetBytes: c.offsetBytes, lengthBytes: c.sizeBytes });
    if (!b) continue;
    differingBytes += b.sizeBytes;
    if (b.used) {
      differingUsedChunks++;
      differingUsedBytes += b.sizeBytes;
    }
  }
  const differing = mergeRanges(changed, Math.max(from.layout.sizeBytes, to.layout.sizeBytes), 0);

  const partitions = new Map<number, ImageDiff['partitions'][number]>();
  for (const s of [to, from]) {
    for (const p of s.layout.partitions) {
      if (p.filesystem !== 'ext4') continue;
      const end = p.startBytes + p.sizeBytes;
      const inside = differing
        .filter((r) => r.offsetBytes < end && r.offsetBytes + r.lengthBytes > p.startBytes)
        .map((r) => {
          const first = Math.max(r.offsetBytes, p.startBytes);
          return {
            offsetBytes: first - p.startBytes,
            lengthBytes: Math.min(r.offsetBytes + r.lengthBytes, end) - first,
          };
        });
      // The other version's same partition, where it has one, tells a removed file's inode apart.
      const o = s === to ? from : to;
      const twin = o.layout.partitions.some((q) => q.startBytes === p.startBytes && q.sizeBytes === p.sizeBytes);
      const found = await filesInRanges(
        sliceDevice(s.device, p.startBytes, p.sizeBytes),
        inside,
        MAX_DIFF_FILES,
        twin ? sliceDevice(o.device, p.startBytes, p.sizeBytes) : undefined,
      );
      if (!found) continue;
      const entry = partitions.get(p.number) ?? {
        number: p.number,
        filesystem: 'ext4',
        files: [],
        filesTruncated: false,
      };
      const files = [...new Set([...entry.files, ...found.paths])].sort();
      entry.filesTruncated ||= found.truncated || files.length > MAX_DIFF_FILES;
      entry.files = files.slice(0, MAX_DIFF_FILES);
      partitions.set(p.number, entry);
    }
  }
  return {
    from: side(from),
    to: side(to),
    chunkSizeBytes: to.layout.chunkSizeBytes,
    chunks: to.layout.chunks.length,
    differingChunks,
    differingBytes,
    differingUsedChunks,
    differingUsedBytes,
    partitions: [...partitions.values()].sort((a, b) => a.number - b.number),
  };
}
