import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { ImageError } from './errors.js';

/** Progress of a long read: bytes done out of total, reported at most a few times a second. */
export type ProgressListener = (doneBytes: number, totalBytes: number) => void;

const READ_CHUNK_BYTES = 1 << 20;
const PROGRESS_EVERY_MS = 250;

/** Streams a file once to learn its size and SHA-256; never holds it in memory. */
export async function digestFile(path: string, onProgress?: ProgressListener, signal?: AbortSignal): Promise<{ sizeBytes: number; sha256: string }> {
  let total: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a regular file');
    total = st.size;
  } catch (cause) {
    throw new ImageError('IMAGE_FILE_UNREADABLE', `Cannot read image file ${path}: ${(cause as Error).message}`, { path }, { cause });
  }
  const hash = createHash('sha256');
  let done = 0;
  let lastReport = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES, ...(signal && { signal }) })) {
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      const now = Date.now();
      if (onProgress && now - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = now;
        onProgress(done, total);
      }
    }
  } catch (cause) {
    throw new ImageError('IMAGE_FILE_UNREADABLE', `Reading image file ${path} failed: ${(cause as Error).message}`, { path }, { cause });
  }
  onProgress?.(done, total);
  return { sizeBytes: done, sha256: hash.digest('hex') };
}
