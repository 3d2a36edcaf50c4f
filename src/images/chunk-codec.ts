import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { decompress } from 'zstd-napi';

/**
 * Chunk compression: zstd with a content checksum, so a damaged stored chunk fails to
 * decompress instead of yielding wrong bytes. Level 3 is zstd's default: about 350 MB/s per core
 * for a fifth of the raw size (docs/stack-lab.md §4c); boards decompress at well over link speed.
 */
export const CHUNK_ZSTD_LEVEL = 3;

/** A chunk after hashing and compression. */
export interface PackedChunk {
  sha256: string;
  compressed: Buffer;
  compressedSha256: string;
}

/** Hashes and compresses chunks on worker threads, so an import uses every core. */
export interface ChunkPacker {
  pack(raw: Uint8Array): Promise<PackedChunk>;
  /** How many chunks may be queued before the caller should wait. */
  readonly capacity: number;
  close(): Promise<void>;
}

// The worker runs as a script (eval) so that it works from the TypeScript sources under test and
// from the build alike; it is handed zstd-napi's resolved path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { Compressor } = require(workerData.zstdPath);
const compressor = new Compressor();
compressor.setParameters({ compressionLevel: workerData.level, checksumFlag: true });
parentPort.on('message', ({ id, raw }) => {
  try {
    const bytes = new Uint8Array(raw);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const compressed = compressor.compress(bytes);
    const compressedSha256 = createHash('sha256').update(compressed).digest('hex');
    const out = compressed.buffer.slice(compressed.byteOffset, compressed.byteOffset + compressed.byteLength);
    parentPort.postMessage({ id, sha256, compressed: out, compressedSha256 }, [out]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

type Reply = { id: number; sha256: string; compressed: ArrayBuffer; compressedSha256: string } | { id: number; error: string };

/** Starts the workers (one per core, at most 4); close() ends them. */
export function createChunkPacker(options: { workers?: number; level?: number } = {}): ChunkPacker {
  const count = options.workers ?? Math.max(1, Math.min(4, availableParallelism()));
  const zstdPath = createRequire(import.meta.url).resolve('zstd-napi');
  const pending = new Map<number, { resolve: (p: PackedChunk) => void; reject: (e: Error) => void }>();
  const workers = Array.from({ length: count }, () => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { zstdPath, level: options.level ?? CHUNK_ZSTD_LEVEL } });
    w.on('message', (r: Reply) => {
      const p = pending.get(r.id);
      pending.delete(r.id);
      if ('error' in r) p?.reject(new Error(`chunk compression failed: ${r.error}`));
      else p?.resolve({ sha256: r.sha256, compressed: Buffer.from(r.compressed), compressedSha256: r.compressedSha256 });
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
    return w;
  });
  let nextId = 0;
  return {
    capacity: count * 2,
    pack(raw) {
      const id = nextId++;
      return new Promise<PackedChunk>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // The raw buffer is handed over, not copied: the caller must not touch it again.
        const buffer = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw.buffer : new Uint8Array(raw).buffer;
        workers[id % count]!.postMessage({ id, raw: buffer }, [buffer as ArrayBuffer]);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** Decompresses a stored chunk; throws on a damaged one (the frame checksum or structure fails). */
export function unpackChunk(compressed: Uint8Array): Buffer {
  return decompress(compressed);
}
