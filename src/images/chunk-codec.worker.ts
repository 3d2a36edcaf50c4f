import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Compressor, decompress } from 'zstd-napi';

/** What chunk-codec.ts hands each worker when it starts it. */
export interface CodecWorkerData {
  level: number;
  /** Raw SHA-256s whose compressed bytes the caller already has: such chunks are hashed, not compressed. */
  known: string[];
}

/** One job; `bytes` is transferred, not copied. */
export interface CodecRequest {
  id: number;
  op: 'pack' | 'unpack';
  bytes: ArrayBuffer;
}

/**
 * The answer to the job with the same id: the output bytes (transferred) and their hashes, no bytes for
 * a known chunk, or why it failed.
 */
export type CodecReply =
  | { id: number; sha256: string; bytes: ArrayBuffer; compressedSha256?: string }
  | { id: number; sha256: string; known: true }
  | { id: number; error: string };

if (!parentPort) throw new Error('chunk-codec.worker.ts runs only as a worker thread (see chunk-codec.ts)');
const port = parentPort;
const { level, known: knownList } = workerData as CodecWorkerData;
const known = new Set(knownList);
const compressor = new Compressor();
compressor.setParameters({ compressionLevel: level, checksumFlag: true });

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** The bytes as a whole ArrayBuffer to transfer, copied only when they are a view into a larger one. */
const own = (b: Buffer): ArrayBuffer =>
  b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
    ? (b.buffer as ArrayBuffer)
    : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
const reply = (r: CodecReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);

port.on('message', ({ id, op, bytes }: CodecRequest) => {
  try {
    const input = new Uint8Array(bytes);
    if (op === 'pack') {
      const rawSha256 = sha256(input);
      if (known.has(rawSha256)) return reply({ id, sha256: rawSha256, known: true });
      const compressed = compressor.compress(input);
      const out = own(compressed);
      reply({ id, sha256: rawSha256, bytes: out, compressedSha256: sha256(compressed) }, [out]);
    } else {
      const raw = decompress(input);
      const out = own(raw);
      reply({ id, sha256: sha256(raw), bytes: out }, [out]);
    }
  } catch (error) {
    reply({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
