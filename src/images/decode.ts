import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { Duplex, Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import type { ImageSourceFormat } from '../protocol/images.js';
import { DEFAULT_CHUNK_SIZE_BYTES } from '../protocol/manifest.js';
import { readAhead } from '../lib/read-ahead.js';
import { ImageError } from './errors.js';

/** Where an image comes from: a file, or a stream (an upload) with the name it was sent under. */
export type ImportSource = { path: string } | { stream: Readable; name: string; sizeBytes?: number | null };

const MAGIC: [ImageSourceFormat, number[]][] = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zst', [0x28, 0xb5, 0x2f, 0xfd]],
  ['gz', [0x1f, 0x8b]],
  ['zip', [0x50, 0x4b, 0x03, 0x04]],
  // An empty zip has only its end-of-central-directory record: still a zip (with no image).
  ['zip', [0x50, 0x4b, 0x05, 0x06]],
];
const SNIFF_BYTES = 8;
/** Reads of an image file in flight at once: enough to keep a disk busy while the last one is hashed. */
const READ_AHEAD_PIECES = 4;

/** The container format from the first bytes; anything unrecognised is a raw image. */
export function detectFormat(head: Uint8Array): ImageSourceFormat {
  for (const [format, magic] of MAGIC) if (magic.every((b, i) => head[i] === b)) return format;
  return 'img';
}

/** A source opened for reading, its first bytes already looked at. */
export interface OpenedSource {
  name: string;
  format: ImageSourceFormat;
  /** Size of the input as sent (compressed), when known. */
  sizeBytes: number | null;
  /** The input bytes, from the first. */
  stream: Readable;
  /** The file, when the source is one (a zip is read from its central directory). */
  path: string | null;
}

function unreadable(what: string, cause: unknown): ImageError {
  return new ImageError(
    'IMAGE_FILE_UNREADABLE',
    `Cannot read ${what}: ${(cause as Error).message}`,
    { source: what },
    { cause },
  );
}

/** Reads the first bytes of a stream and gives back a stream that still starts at byte 0. */
async function sniffStream(stream: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const part of stream.iterator({ destroyOnReturn: false })) {
      parts.push(part as Buffer);
      length += (part as Buffer).length;
      if (length >= SNIFF_BYTES) break;
    }
  } catch (cause) {
    throw unreadable('the uploaded image', cause);
  }
  const head = Buffer.concat(parts);
  if (stream.readableEnded) return { head, stream: Readable.from(head.length > 0 ? [head] : []) };
  stream.unshift(head);
  return { head, stream };
}

/** Opens a source and tells its format from its first bytes; a missing or unreadable file is IMAGE_FILE_UNREADABLE. */
export async function openSource(source: ImportSource): Promise<OpenedSource> {
  if ('stream' in source) {
    const { head, stream } = await sniffStream(source.stream);
    return {
      name: basename(source.name),
      format: detectFormat(head),
      sizeBytes: source.sizeBytes ?? null,
      stream,
      path: null,
    };
  }
  let head: Uint8Array;
  let sizeBytes: number | null;
  try {
    const fh = await open(source.path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile() && !st.isBlockDevice()) throw new Error('not a regular file');
      // A block device (a card holding the master) reports no size through stat.
      sizeBytes = st.isFile() ? st.size : null;
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (cause) {
    throw unreadable(`image file ${source.path}`, cause);
  }
  // Chunk-sized pieces: the chunker takes each one as it is, without copying (createChunker).
  const stream = readAhead(source.path, { pieceBytes: DEFAULT_CHUNK_SIZE_BYTES, depth: READ_AHEAD_PIECES });
  return { name: basename(source.path), format: detectFormat(head), sizeBytes, stream, path: source.path };
}

/** A decompressor in a pipeline; `finished` settles once it is sure the input was whole. */
export interface Decoder {
  stream: Duplex;
  /** Resolves after the stream ended if the input decoded completely; rejects otherwise. */
  finished(): Promise<void>;
  /** The decoder's own complaint, if it failed: what IMAGE_INPUT_CORRUPT should say. */
  failure(): Error | null;
  kill(): void;
}

function inProcess(stream: Duplex): Decoder {
  let failure: Error | null = null;
  stream.once('error', (e: Error) => (failure = e));
  return { stream, finished: async () => undefined, failure: () => failure, kill: () => undefined };
}

/**
 * xz runs as Debian's `xz` (xz-utils, priority "required"): Node has no xz codec, and the tool
 * decodes on every core. It checks the stream index and every block's check, and exits non-zero
 * on a truncated or damaged file; its exit status is awaited before the import may succeed.
 */
function xzProcess(): Decoder {
  const child = spawn('xz', ['--decompress', '--stdout', '--threads=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let failure: Error | null = null;
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      failure =
        e.code === 'ENOENT'
          ? new ImageError(
              'IMAGE_DECODER_MISSING',
              'The xz tool is not installed; install xz-utils to import .img.xz files',
              { tool: 'xz' },
            )
          : e;
      resolve();
    });
    child.once('close', (code, signal) => {
      if (code !== 0 && !failure)
        failure = new Error(stderr.trim().replace(/^xz: \(stdin\): /gm, '') || `xz exited with ${code ?? signal}`);
      resolve();
    });
  });
  const stream = Duplex.from({ writable: child.stdin, readable: child.stdout });
  return {
    stream,
    async finished() {
      await exited;
      if (failure) throw failure;
    },
    failure: () => failure,
    kill: () => child.kill('SIGKILL'),
  };
}

/** The decoder for a compressed format (none for a raw image or a zip, read elsewhere). */
export function decoderFor(format: 'xz' | 'gz' | 'zst'): Decoder {
  if (format === 'xz') return xzProcess();
  // zlib and zstd-napi both fail at end of input inside a member / frame: no silent truncation.
  if (format === 'gz') return inProcess(createGunzip({ chunkSize: 1024 * 1024 }));
  return inProcess(new DecompressStream());
}

/** Counts bytes passing through, for progress. */
export function byteCounter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}
