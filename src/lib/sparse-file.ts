import type { FileHandle } from 'node:fs/promises';
import type { ByteRange } from '../protocol/manifest.js';
import { nativeAddon } from './native-addon.js';

interface SparseFileAddon {
  dataRanges(fd: number, sizeBytes: number): number[];
}

const addon = nativeAddon<SparseFileAddon>(
  'sparse-file',
  (message, cause) => new Error(`Cannot tell the holes of a sparse file: ${message}`, { cause }),
);

/**
 * The byte ranges of a regular file below `sizeBytes` that hold data, in order (native/sparse-file:
 * lseek SEEK_DATA and SEEK_HOLE). The rest are holes, which read as zeros. A filesystem that does
 * not track holes reports the whole file as data.
 */
export function dataRanges(file: FileHandle, sizeBytes: number): ByteRange[] {
  const flat = addon().dataRanges(file.fd, sizeBytes);
  const ranges: ByteRange[] = [];
  for (let i = 0; i < flat.length; i += 2) ranges.push({ offsetBytes: flat[i]!, lengthBytes: flat[i + 1]! - flat[i]! });
  return ranges;
}
