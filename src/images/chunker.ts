import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { ChunkPacker, KnownChunk, PackedChunk } from './chunk-codec.js';
import type { ChunkStore, Staging } from './chunk-store.js';

/** A chunk as cut and stored, before analysis says whether it is used. */
export interface CutChunk {
  index: number;
  offsetBytes: number;
  sizeBytes: number;
  sha256: string;
  storedBytes: number;
  storedSha256: string;
}

interface StoredAs {
  storedBytes: number;
  storedSha256: string;
}

/** The raw image as cut: its size, its SHA-256 and its chunks in order. */
export interface Chunked {
  sizeBytes: number;
  sha256: string;
  chunks: CutChunk[];
  /** Chunks compressed here, and chunks taken compressed from `known` instead. */
  chunksCompressed: number;
  chunksReused: number;
}

/** A writable end that cuts raw image bytes into chunks, stores each distinct one, and hashes the whole. */
export interface Chunker extends Writable {
  /** What was cut; valid once the stream finished. */
  result(): Chunked;
}

/**
 * Cuts the raw image into `chunkSizeBytes` pieces (the last may be shorter). The whole-image
 * SHA-256 is computed here, in order; each chunk is hashed and compressed by the packer's
 * workers, a few at a time, and written to staging unless the store or this import already holds
 * those bytes. A chunk in `known` (the packer was given the same hashes) is not compressed: its
 * file is staged as it is. A chunk of zeros (an image's free space) is hashed and compressed once.
 * Back-pressure: at most `packer.capacity` chunks are in flight, so memory stays at a few chunks
 * whatever the image size.
 */
export function createChunker(o: {
  chunkSizeBytes: number;
  packer: ChunkPacker;
  store: ChunkStore;
  staging: Staging;
  known?: ReadonlyMap<string, string>;
}): Chunker {
  const whole = createHash('sha256');
  const chunks: CutChunk[] = [];
  const stored = new Map<string, Promise<StoredAs>>();
  const inFlight: Promise<void>[] = [];
  let buffer = new Uint8Array(o.chunkSizeBytes);
  let filled = 0;
  let offset = 0;
  let index = 0;
  let chunksCompressed = 0;
  let chunksReused = 0;
  const zeros = new Uint8Array(o.chunkSizeBytes);
  let zeroChunk: Promise<PackedChunk | KnownChunk> | undefined;

  /** The file holding a known chunk's zstd frame, checked when it was received (a capture's upload). */
  function knownFile(sha256: string): string {
    const file = o.known?.get(sha256);
    if (!file) throw new Error(`chunk ${sha256} is taken as known, but this chunker has no file for it`);
    return file;
  }
  const knownBytes = (sha256: string) => readFile(knownFile(sha256));

  /** The chunk hashed and compressed (unless known); `reused` when it was not compressed for this chunk. */
  function pack(raw: Uint8Array): { packed: Promise<PackedChunk | KnownChunk>; reused: boolean } {
    if (raw.length === o.chunkSizeBytes && Buffer.from(raw.buffer, raw.byteOffset, raw.length).equals(zeros)) {
      const reused = zeroChunk !== undefined;
      zeroChunk ??= o.packer.pack(raw);
      return { packed: zeroChunk, reused };
    }
    return { packed: o.packer.pack(raw), reused: false };
  }

  /** Where the store already holds the chunk (from another image), its stored bytes are what boards get. */
  function storedAs(packed: PackedChunk | KnownChunk): Promise<StoredAs> {
    const { sha256 } = packed;
    let as = stored.get(sha256);
    if (!as) {
      const stage = async () => {
        if (packed.compressed) {
          await o.staging.writeChunk(sha256, packed.compressed);
          return { storedBytes: packed.compressed.length, storedSha256: packed.compressedSha256 };
        }
        const compressed = await knownBytes(sha256);
        await o.staging.adoptChunk(sha256, knownFile(sha256));
        return { storedBytes: compressed.length, storedSha256: createHash('sha256').update(compressed).digest('hex') };
      };
      as = o.store.hasChunk(sha256)
        ? o.store.readChunk(sha256).then(
            (bytes) => ({ storedBytes: bytes.length, storedSha256: createHash('sha256').update(bytes).digest('hex') }),
            (err: NodeJS.ErrnoException) => {
              if (err.code !== 'ENOENT') throw err;
              return stage();
            },
          )
        : stage();
      stored.set(sha256, as);
    }
    return as;
  }

  function submit(raw: Uint8Array): Promise<void> {
    whole.update(raw);
    const chunk = { index: index++, offsetBytes: offset, sizeBytes: raw.length };
    offset += raw.length;
    const { packed: packing, reused } = pack(raw);
    const done = packing.then(async (packed) => {
      if (packed.compressed && !reused) chunksCompressed++;
      else chunksReused++;
      chunks[chunk.index] = { ...chunk, sha256: packed.sha256, ...(await storedAs(packed)) };
    });
    // Failures surface when this chunk is awaited; until then they must not count as unhandled.
    done.catch(() => undefined);
    inFlight.push(done);
    return inFlight.length >= o.packer.capacity ? inFlight.shift()! : Promise.resolve();
  }

  const writable = new Writable({
    highWaterMark: o.chunkSizeBytes,
    write(data: Buffer, _enc, callback) {
      void (async () => {
        let at = 0;
        // A read of exactly one chunk (readAhead's pieces) goes on as it is, uncopied.
        if (filled === 0 && data.length === o.chunkSizeBytes) {
          await submit(data);
          at = data.length;
        }
        while (at < data.length) {
          const n = Math.min(data.length - at, o.chunkSizeBytes - filled);
          buffer.set(data.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === o.chunkSizeBytes) {
            const full = buffer;
            buffer = new Uint8Array(o.chunkSizeBytes);
            filled = 0;
            await submit(full);
          }
        }
      })().then(() => callback(), callback);
    },
    final(callback) {
      void (async () => {
        if (filled > 0) await submit(buffer.slice(0, filled));
        await Promise.all(inFlight.splice(0));
      })().then(() => callback(), callback);
    },
  }) as Chunker;
  writable.result = () => ({ sizeBytes: offset, sha256: whole.digest('hex'), chunks, chunksCompressed, chunksReused });
  return writable;
}
