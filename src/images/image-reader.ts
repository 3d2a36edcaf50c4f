import { Readable } from 'node:stream';
import { createHash, webcrypto } from 'node:crypto';
import { BoundedMap } from '../lib/bounded-map.js';
import { FatError, openFatVolume, sliceDevice, type BlockReader, type FatVolume } from '../lib/fat/index.js';
import { relativePathParts, SafePathError } from '../lib/safe-path.js';
import { ImageLayout, type ByteRange, type ManifestChunk } from '../protocol/manifest.js';
import { firstSchemaError } from '../lib/validate.js';
import type { ChunkUnpacker, UnpackedChunk } from './chunk-codec.js';
import { createChunkReader } from './chunk-reader.js';
import type { ChunkStore } from './chunk-store.js';
import { ImageError } from './errors.js';

/** Bytes to send: a whole object or a part of it, with the size of the whole (for Content-Range). */
export interface ByteStream {
  totalBytes: number;
  offsetBytes: number;
  lengthBytes: number;
  stream: Readable;
}

const SHA256 = /^[0-9a-f]{64}$/;
const BOOT_VOLUMES_KEPT = 4;
const BOOT_CACHE_CHUNKS = 4;

/** The part of `totalBytes` a caller asked for (all of it when `range` is absent). */
export function checkRange(
  range: ByteRange | undefined,
  totalBytes: number,
): { offsetBytes: number; lengthBytes: number } {
  if (!range) return { offsetBytes: 0, lengthBytes: totalBytes };
  const { offsetBytes, lengthBytes } = range;
  if (
    !Number.isSafeInteger(offsetBytes) ||
    !Number.isSafeInteger(lengthBytes) ||
    offsetBytes < 0 ||
    lengthBytes < 1 ||
    offsetBytes + lengthBytes > totalBytes
  ) {
    throw new ImageError(
      'IMAGE_RANGE_INVALID',
      `Bytes ${offsetBytes}+${lengthBytes} are outside the ${totalBytes}-byte object`,
      { offsetBytes, lengthBytes, totalBytes },
    );
  }
  return { offsetBytes, lengthBytes };
}

/** A stored chunk's bytes (or part), in a pooled buffer: `release` once they are sent. */
export interface ChunkBytes {
  totalBytes: number;
  offsetBytes: number;
  lengthBytes: number;
  bytes: Buffer;
  release: () => void;
}

/** Reads what the store holds for registered images: layouts, chunks, the raw image, boot files. */
export interface ImageReader {
  layout(manifestFile: string): Promise<ImageLayout>;
  /**
   * A stored chunk or part of it. Read whole with the manifest's `storedSha256`, the bytes are
   * checked against it first, so damage in the store is reported as such (IMAGE_STORE_CORRUPT)
   * instead of reaching a board that can only tell that the bytes are wrong.
   */
  readChunk(sha256: string, range?: ByteRange, storedSha256?: string): Promise<ChunkBytes>;
  openRaw(layout: ImageLayout, range?: ByteRange): ByteStream;
  readBootFile(layout: ImageLayout, path: string): Promise<Buffer>;
  /** Random access to the raw image, each chunk read checked against its hash; the last `cacheChunks` stay cached. */
  device(layout: ImageLayout, cacheChunks: number): BlockReader;
}

/** A reader over the store; layouts and opened boot volumes are cached (both immutable). */
export function createImageReader(store: ChunkStore, unpacker: ChunkUnpacker): ImageReader {
  // Layouts never change once stored (named by the image's hash), so each is parsed once.
  const layouts = new Map<string, Promise<ImageLayout>>();
  // Boot files are asked for in bursts (a board's TFTP boot): the opened volume is kept per image.
  const bootVolumes = new BoundedMap<string, Promise<FatVolume>>(BOOT_VOLUMES_KEPT);

  async function loadRaw(c: Pick<ManifestChunk, 'sha256' | 'index'>): Promise<Buffer> {
    let unpacked: UnpackedChunk;
    try {
      unpacked = await unpacker.unpack(await store.readChunk(c.sha256));
    } catch (cause) {
      throw new ImageError(
        'IMAGE_STORE_CORRUPT',
        `Stored chunk ${c.index} (${c.sha256}) cannot be read back: ${(cause as Error).message}; delete the image and import it again`,
        { sha256: c.sha256 },
        { cause },
      );
    }
    const { raw, sha256 } = unpacked;
    if (sha256 !== c.sha256) {
      throw new ImageError(
        'IMAGE_STORE_CORRUPT',
        `Stored chunk ${c.index} (${c.sha256}) fails its hash; delete the image and import it again`,
        { sha256: c.sha256 },
      );
    }
    return raw;
  }

  /** Manifests stored before chunks carried `storedSha256` get it from the stored files, once per process. */
  async function addStoredSha256(value: unknown): Promise<void> {
    const chunks = (value as { chunks?: unknown }).chunks;
    if (!Array.isArray(chunks)) return;
    for (const c of chunks as { sha256?: unknown; storedSha256?: unknown }[]) {
      if (c.storedSha256 !== undefined || typeof c.sha256 !== 'string' || !SHA256.test(c.sha256)) continue;
      const sha256 = c.sha256;
      const bytes = await store.readChunk(sha256).catch((cause: Error) => {
        throw new ImageError(
          'IMAGE_STORE_CORRUPT',
          `Stored chunk ${sha256} cannot be read: ${cause.message}; delete the image and import it again`,
          { sha256 },
          { cause },
        );
      });
      c.storedSha256 = createHash('sha256').update(bytes).digest('hex');
    }
  }

  function device(layout: ImageLayout, cacheChunks: number): BlockReader {
    const bySha = new Map(layout.chunks.map((c) => [c.sha256, c]));
    return createChunkReader({ ...layout, load: (sha256) => loadRaw(bySha.get(sha256)!), cacheChunks });
  }

  return {
    device,
    layout(manifestFile) {
      let p = layouts.get(manifestFile);
      if (!p) {
        p = store.readManifest(manifestFile).then(async (text) => {
          const value: unknown = JSON.parse(text);
          await addStoredSha256(value);
          const problem = firstSchemaError(ImageLayout, value);
          if (problem)
            throw new ImageError(
              'IMAGE_STORE_CORRUPT',
              `Manifest ${manifestFile} is damaged (${problem.path} ${problem.message})`,
              { manifestFile },
            );
          return value as ImageLayout;
        });
        p.catch(() => layouts.delete(manifestFile));
        layouts.set(manifestFile, p);
      }
      return p;
    },

    async readChunk(sha256, range, storedSha256) {
      if (!SHA256.test(sha256))
        throw new ImageError(
          'IMAGE_CHUNK_UNKNOWN',
          `${JSON.stringify(sha256)} is not a chunk name (64 lower-case hex digits)`,
          { sha256 },
        );
      const totalBytes = await store.chunkSize(sha256);
      if (totalBytes === null) throw new ImageError('IMAGE_CHUNK_UNKNOWN', `No stored chunk ${sha256}`, { sha256 });
      const part = checkRange(range, totalBytes);
      const { bytes, release } = await store.readChunkRange(
        sha256,
        part.offsetBytes,
        part.offsetBytes + part.lengthBytes - 1,
      );
      if (storedSha256 !== undefined && part.lengthBytes === totalBytes) {
        // On the thread pool (WebCrypto is asynchronous): the event loop DHCP and TFTP answer on stays free.
        const got = Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes.subarray(0, totalBytes))).toString(
          'hex',
        );
        if (got !== storedSha256) {
          release();
          throw new ImageError(
            'IMAGE_STORE_CORRUPT',
            `Stored chunk ${sha256} fails its hash (${got}, expected ${storedSha256}); delete the image and import it again`,
            { sha256 },
          );
        }
      }
      return { totalBytes, ...part, bytes, release };
    },

    openRaw(layout, range) {
      const part = checkRange(range, layout.sizeBytes);
      const end = part.offsetBytes + part.lengthBytes;
      // One chunk ahead: the next one decompresses on a worker while this one is sent.
      const load = (i: number) => {
        const c = layout.chunks[i];
        if (!c || c.offsetBytes >= end) return undefined;
        const p = loadRaw(c);
        // A reader that stops early leaves the one ahead unawaited; its failure is not news then.
        p.catch(() => undefined);
        return { c, p };
      };
      async function* bytes() {
        let i = Math.floor(part.offsetBytes / layout.chunkSizeBytes);
        let next = load(i);
        while (next) {
          const { c, p } = next;
          next = load(++i);
          const raw = await p;
          yield raw.subarray(Math.max(0, part.offsetBytes - c.offsetBytes), Math.min(raw.length, end - c.offsetBytes));
        }
      }
      return { totalBytes: layout.sizeBytes, ...part, stream: Readable.from(bytes(), { objectMode: false }) };
    },

    async readBootFile(layout, path) {
      let parts: string[];
      try {
        parts = relativePathParts(path);
      } catch (e) {
        if (!(e instanceof SafePathError)) throw e;
        throw new ImageError('IMAGE_PATH_INVALID', e.message, { path }, { cause: e });
      }
      const boot = layout.boot;
      const partition = boot && layout.partitions.find((p) => p.number === boot.partitionNumber);
      if (!partition) throw new ImageError('IMAGE_NO_BOOT_PARTITION', 'This image has no FAT boot partition', {});
      let volume = bootVolumes.get(layout.sha256);
      if (!volume) {
        const reader = device(layout, BOOT_CACHE_CHUNKS);
        volume = openFatVolume(sliceDevice(reader, partition.startBytes, partition.sizeBytes));
        volume.catch(() => bootVolumes.delete(layout.sha256));
        bootVolumes.set(layout.sha256, volume);
      }
      try {
        return Buffer.from(await (await volume).readFile(parts.join('/')));
      } catch (e) {
        if (e instanceof FatError && ['FAT_NOT_FOUND', 'FAT_IS_DIRECTORY', 'FAT_NOT_A_DIRECTORY'].includes(e.code)) {
          throw new ImageError(
            'IMAGE_BOOT_FILE_UNKNOWN',
            `No file ${JSON.stringify(path)} on the image's boot partition`,
            { path },
            { cause: e },
          );
        }
        throw e;
      }
    },
  };
}
