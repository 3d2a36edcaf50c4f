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
 * those bytes (a chunk of zeros is stored once). A chunk in `known` (the packer was given the same
 * hashes) is not compressed: its file's zstd frame is staged as it is. Back-pressure: at most
 * `packer.capacity` chunks are in flight, so memory stays at a few chunks whatever the image size.
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

  /** The zstd frame of a known chunk, checked when it was received (a capture's upload). */
  async function knownBytes(sha256: string): Promise<Buffer> {
    const file = o.known?.get(sha256);
    if (!file) throw new Error(`the packer knows chunk ${sha256}, this chunker has no file for it`);
    return readFile(file);
  }

  /** Where the store already holds the chunk (from another image), its stored bytes are what boards get. */
  function storedAs(packed: PackedChunk | KnownChunk): Promise<StoredAs> {
    const { sha256 } = packed;
    let as = stored.get(sha256);
    if (!as) {
      const stage = async () => {
        const compressed = packed.compressed ?? (await knownBytes(sha256));
        await o.staging.writeChunk(sha256, compressed);
        const storedSha256 = packed.compressed
          ? packed.compressedSha256
          : createHash('sha256').update(compressed).digest('hex');
        return { storedBytes: compressed.length, storedSha256 };
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
    const done = o.packer.pack(raw).then(async (packed) => {
      if (packed.compressed) chunksCompressed++;
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
