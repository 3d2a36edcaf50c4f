import { availableParallelism } from 'node:os';
import { decompress } from 'zstd-napi';
import { startModuleWorker } from '../lib/module-worker.js';
import type { CodecReply, CodecRequest, CodecWorkerData } from './chunk-codec.worker.js';

/**
 * Chunk compression: zstd with a content checksum, so a damaged stored chunk fails to
 * decompress instead of yielding wrong bytes. Level 3 is zstd's default: about 350 MB/s per core
 * for a fifth of the raw size; boards decompress at well over link speed.
 */
export const CHUNK_ZSTD_LEVEL = 3;

/** A chunk after hashing and compression. */
export interface PackedChunk {
  sha256: string;
  compressed: Buffer;
  compressedSha256: string;
}

/** A chunk hashed only: its raw SHA-256 is one of the packer's `known` ones. */
export interface KnownChunk {
  sha256: string;
  compressed: null;
}

/** Hashes and compresses chunks on worker threads, so an import uses every core. */
export interface ChunkPacker {
  pack(raw: Uint8Array): Promise<PackedChunk | KnownChunk>;
  /** How many chunks may be queued before the caller should wait. */
  readonly capacity: number;
  close(): Promise<void>;
}

/** A stored chunk decompressed, with the SHA-256 of what came out. */
export interface UnpackedChunk {
  raw: Buffer;
  sha256: string;
}

/**
 * Decompresses and hashes stored chunks on worker threads: serving a raw image (seed installers,
 * agents without zstd) would otherwise hold the event loop that DHCP and TFTP answer on for
 * several milliseconds per chunk. Workers start on first use and do not keep the process alive.
 */
export interface ChunkUnpacker {
  /** Rejects with the decoder's message for a damaged chunk (the frame checksum or structure fails). */
  unpack(compressed: Uint8Array): Promise<UnpackedChunk>;
  close(): Promise<void>;
}

type CodecResult = Exclude<CodecReply, { error: string }>;
type BytesResult = Exclude<CodecResult, { known: true }>;

function bytesOf(r: CodecResult): BytesResult {
  if ('known' in r) throw new Error('a chunk unpacker answered "known", which only packing does');
  return r;
}

/**
 * Workers running chunk-codec.worker.ts, jobs spread round-robin. With `idleUnref`, idle workers do not
 * keep the process alive; busy ones do, so a job in flight is never cut off by the process ending.
 */
function workerPool(count: number, level: number, known: readonly string[], idleUnref = false) {
  const pending = new Map<number, { resolve: (r: CodecResult) => void; reject: (e: Error) => void }>();
  const workers = Array.from({ length: count }, () => {
    const workerData: CodecWorkerData = { level, known: [...known] };
    const w = startModuleWorker(import.meta.url, 'chunk-codec', { workerData });
    w.on('message', (r: CodecReply) => {
      const p = pending.get(r.id);
      pending.delete(r.id);
      idle();
      if ('error' in r) p?.reject(new Error(r.error));
      else p?.resolve(r);
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
      idle();
    });
    return w;
  });
  const idle = () => {
    if (idleUnref && pending.size === 0) for (const w of workers) w.unref();
  };
  idle();
  let nextId = 0;
  return {
    /** Hands `bytes` over (not copied): the caller must not touch them again. */
    run(op: 'pack' | 'unpack', bytes: Uint8Array) {
      const id = nextId++;
      return new Promise<CodecResult>((resolve, reject) => {
        if (pending.size === 0) for (const w of workers) w.ref();
        pending.set(id, { resolve, reject });
        const buffer =
          bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
            ? bytes.buffer
            : new Uint8Array(bytes).buffer;
        const request: CodecRequest = { id, op, bytes: buffer as ArrayBuffer };
        workers[id % count]!.postMessage(request, [request.bytes]);
      });
    },
    close: () => Promise.all(workers.map((w) => w.terminate())).then(() => undefined),
  };
}

const defaultWorkers = () => Math.max(1, Math.min(4, availableParallelism()));

/**
 * Starts the workers (one per core, at most 4); close() ends them. Chunks whose raw SHA-256 is in
 * `known` are only hashed (pack answers a KnownChunk): the caller has their compressed bytes already.
 */
export function createChunkPacker(
  options: { workers?: number; level?: number; known?: Iterable<string> } = {},
): ChunkPacker {
  const count = options.workers ?? defaultWorkers();
  const pool = workerPool(count, options.level ?? CHUNK_ZSTD_LEVEL, [...(options.known ?? [])]);
  return {
    capacity: count * 2,
    async pack(raw) {
      const r = await pool.run('pack', raw).catch((e: Error) => {
        throw new Error(`chunk compression failed: ${e.message}`, { cause: e });
      });
      if ('known' in r) return { sha256: r.sha256, compressed: null };
      return { sha256: r.sha256, compressed: Buffer.from(r.bytes), compressedSha256: r.compressedSha256! };
    },
    close: pool.close,
  };
}

export function createChunkUnpacker(options: { workers?: number } = {}): ChunkUnpacker {
  let pool: ReturnType<typeof workerPool> | undefined;
  return {
    async unpack(compressed) {
      pool ??= workerPool(options.workers ?? defaultWorkers(), CHUNK_ZSTD_LEVEL, [], true);
      // The stored bytes are read for this call only: handing them over is safe.
      const r = bytesOf(await pool.run('unpack', compressed));
      return { raw: Buffer.from(r.bytes), sha256: r.sha256 };
    },
    async close() {
      await pool?.close();
      pool = undefined;
    },
  };
}

/** Decompresses a stored chunk on the calling thread; throws on a damaged one. */
export function unpackChunk(compressed: Uint8Array): Buffer {
  return decompress(compressed);
}
