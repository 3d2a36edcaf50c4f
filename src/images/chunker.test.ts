import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { compress, decompress } from 'zstd-napi';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { createChunkPacker } from './chunk-codec.js';
import { openChunkStore } from './chunk-store.js';
import { createChunker } from './chunker.js';

const SIZE = 64 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dir = tempDir('rpi-deploy-chunker-');
afterAll(() => dir.remove());

/** `bytes` in standalone pieces of `size`, as a file or decoder stream hands them over. */
function* pieces(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield Buffer.from(bytes.subarray(at, at + size));
}

async function cut(image: Buffer, writeBytes: number, known?: ReadonlyMap<string, string>) {
  const store = await openChunkStore(join(dir.path, `store-${writeBytes}-${known ? 'known' : 'plain'}`));
  const staging = await store.createStaging();
  const packer = createChunkPacker({ workers: 2, known: known?.keys() });
  const chunker = createChunker({ chunkSizeBytes: SIZE, packer, store, staging, known });
  try {
    await pipeline(Readable.from(pieces(image, writeBytes)), chunker);
  } finally {
    await packer.close();
  }
  return { result: chunker.result(), staging };
}

describe('createChunker', () => {
  // Free space: a run of zero chunks, then data, then zeros again, and a short last chunk.
  const image = Buffer.concat([
    randomBytes(SIZE),
    Buffer.alloc(SIZE * 3),
    randomBytes(SIZE),
    Buffer.alloc(SIZE),
    Buffer.alloc(SIZE / 2, 7),
  ]);
  const expected = Array.from({ length: 7 }, (_, i) => sha256(image.subarray(i * SIZE, (i + 1) * SIZE)));

  it.each([
    ['chunk-sized reads (taken uncopied)', SIZE],
    ['small reads', 1000],
    ['reads across chunk ends', SIZE * 2 + 7],
  ])('cuts the same chunks from %s, and compresses a chunk of zeros once', async (_, writeBytes) => {
    const { result, staging } = await cut(image, writeBytes);
    expect(result.sha256).toBe(sha256(image));
    expect(result.sizeBytes).toBe(image.length);
    expect(result.chunks.map((c) => c.sha256)).toEqual(expected);
    expect(result.chunks.map((c) => c.offsetBytes)).toEqual(expected.map((_, i) => i * SIZE));
    // Two random chunks, one of zeros and the short last one; the other three zero chunks are that one again.
    expect(result).toMatchObject({ chunksCompressed: 4, chunksReused: 3 });
    const zero = result.chunks[1]!;
    expect(decompress(await staging.readChunk(zero.sha256)).equals(Buffer.alloc(SIZE))).toBe(true);
    expect(result.chunks[2]).toMatchObject({ sha256: zero.sha256, storedSha256: zero.storedSha256 });
  });

  it('stages a known chunk from its file as it is, under its raw hash', async () => {
    const raw = image.subarray(4 * SIZE, 5 * SIZE);
    // Level 19: bytes the importer's own level would not make, so they can only be the file's.
    const frame = compress(raw, { compressionLevel: 19, checksumFlag: true });
    const file = join(dir.path, 'upload.zst');
    writeFileSync(file, frame);
    const { result, staging } = await cut(image, SIZE, new Map([[sha256(raw), file]]));
    expect(result.chunks[4]).toMatchObject({
      sha256: sha256(raw),
      storedSha256: sha256(frame),
      storedBytes: frame.length,
    });
    expect((await staging.readChunk(sha256(raw))).equals(frame)).toBe(true);
    expect(result).toMatchObject({ chunksCompressed: 3, chunksReused: 4 });
    // The upload stays where it was: the capture removes its own files.
    expect(readFileSync(file).equals(frame)).toBe(true);
    expect(statSync(file).nlink).toBe(2);
  });
});
