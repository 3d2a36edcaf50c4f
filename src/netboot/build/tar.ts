import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';

/**
 * A POSIX ustar archive (what busybox `tar -x` reads on the board), written as a stream so that a
 * 100 MB Node binary is never held in memory. Owners root, timestamps 0: same inputs, same bytes.
 */

export type TarEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; mode?: number; data: Buffer }
  /** A file copied from disk while the archive is written. */
  | { path: string; type: 'file'; mode?: number; source: string }
  | { path: string; type: 'symlink'; target: string };

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Splits a long path into ustar's prefix (≤155) and name (≤100) at a slash. */
function splitPath(path: string): [prefix: string, name: string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const [prefix, name] = [path.slice(0, i), path.slice(i + 1)];
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

/** The 512-byte ustar header of one entry. */
export function tarHeader(e: {
  path: string;
  type: 'dir' | 'file' | 'symlink';
  mode: number;
  size: number;
  target?: string;
}): Buffer {
  const h = Buffer.alloc(BLOCK);
  const [prefix, name] = splitPath(e.type === 'dir' ? `${e.path}/` : e.path);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.mode, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(e.size, 12), 124, 'latin1');
  h.write(octal(0, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 'latin1');
  if (e.target) h.write(e.target, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** Writes the archive to `file`; resolves with its size and SHA-256. */
export async function writeTar(
  file: string,
  entries: readonly TarEntry[],
): Promise<{ sizeBytes: number; sha256: string }> {
  const out = createWriteStream(file);
  let failure: Error | undefined;
  out.on('error', (err) => (failure = err));
  const hash = createHash('sha256');
  let size = 0;
  const put = async (chunk: Buffer) => {
    if (failure) throw failure;
    hash.update(chunk);
    size += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  const padding = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
  try {
    for (const e of entries) {
      if (e.type === 'dir') await put(tarHeader({ path: e.path, type: 'dir', mode: e.mode ?? 0o755, size: 0 }));
      else if (e.type === 'symlink')
        await put(tarHeader({ path: e.path, type: 'symlink', mode: 0o777, size: 0, target: e.target }));
      else if ('data' in e) {
        await put(tarHeader({ path: e.path, type: 'file', mode: e.mode ?? 0o644, size: e.data.length }));
        await put(e.data);
        await put(padding(e.data.length));
      } else {
        const { size: length } = await stat(e.source);
        await put(tarHeader({ path: e.path, type: 'file', mode: e.mode ?? 0o644, size: length }));
        let copied = 0;
        for await (const chunk of createReadStream(e.source)) {
          copied += (chunk as Buffer).length;
          await put(chunk as Buffer);
        }
        if (copied !== length) throw new Error(`tar: ${e.source} changed size while it was archived`);
        await put(padding(length));
      }
    }
    await put(Buffer.alloc(2 * BLOCK));
  } finally {
    out.end();
    await once(out, 'close');
  }
  if (failure) throw failure;
  return { sizeBytes: size, sha256: hash.digest('hex') };
}
