import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 of a file (or of `length` bytes from `start`), streamed. */
export function sha256File(path: string, range?: { start: number; length: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const options = range && range.length > 0 ? { start: range.start, end: range.start + range.length - 1 } : {};
    if (range?.length === 0) return resolve(hash.digest('hex'));
    createReadStream(path, options)
      .on('error', reject)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')));
  });
}
