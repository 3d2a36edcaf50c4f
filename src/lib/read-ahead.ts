import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ByteRange } from '../protocol/manifest.js';
import { overlapsAny } from './disk/byte-ranges.js';
import { dataRanges } from './sparse-file.js';

/**
 * A file (or block device) as a stream of `pieceBytes` buffers, each its own allocation (a worker
 * thread can take it without a copy), with up to `depth` reads in flight. fs.createReadStream has one read outstanding at a time: a large image
 * read from disk then waits for the disk between pieces, and the disk never sees a queue.
 * A piece that lies in a hole of a sparse regular file is made, not read: the kernel makes a
 * hole's zeros page by page, slower than a disk reads data.
 */
export function readAhead(path: string, options: { pieceBytes: number; depth: number }): Readable {
  const { pieceBytes, depth } = options;
  let fh: FileHandle | undefined;
  let sizeBytes = 0;
  /** Where a regular file holds data; null for a block device, which is read throughout. */
  let data: ByteRange[] | null = null;
  let nextAt = 0;
  let ended = false;
  const inFlight: Promise<Buffer>[] = [];

  const readPiece = async (at: number): Promise<Buffer> => {
    if (data && !overlapsAny(data, at, pieceBytes))
      return Buffer.alloc(Math.max(0, Math.min(pieceBytes, sizeBytes - at)));
    const buffer = Buffer.allocUnsafeSlow(pieceBytes);
    let filled = 0;
    // A short read is not yet the end (a pipe-like device may return less): only 0 bytes is.
    while (filled < pieceBytes) {
      const { bytesRead } = await fh!.read(buffer, filled, pieceBytes - filled, at + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === pieceBytes ? buffer : buffer.subarray(0, filled);
  };

  return new Readable({
    // One piece buffered ahead of the consumer; the reads in flight are the rest of the look-ahead.
    highWaterMark: 1,
    objectMode: true,
    construct(callback) {
      open(path, 'r')
        .then(async (handle) => {
          fh = handle;
          const st = await handle.stat();
          if (!st.isFile()) return;
          sizeBytes = st.size;
          data = dataRanges(handle, sizeBytes);
        })
        .then(
          () => callback(),
          (err: Error) => callback(err),
        );
    },
    read() {
      while (!ended && inFlight.length < depth) {
        const piece = readPiece(nextAt);
        // Settled through inFlight; a read still running when the stream is destroyed fails quietly.
        piece.catch(() => undefined);
        inFlight.push(piece);
        nextAt += pieceBytes;
      }
      const first = inFlight.shift();
      if (!first) {
        this.push(null);
        return;
      }
      first.then(
        (buffer) => {
          if (buffer.length < pieceBytes) {
            ended = true;
            inFlight.length = 0;
          }
          if (buffer.length > 0) this.push(buffer);
          if (ended) this.push(null);
        },
        (err: Error) => this.destroy(err),
      );
    },
    destroy(err, callback) {
      ended = true;
      inFlight.length = 0;
      const closing = fh?.close() ?? Promise.resolve();
      closing.then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
}
