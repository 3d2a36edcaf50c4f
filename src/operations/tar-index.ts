import { open } from 'node:fs/promises';

/** One entry of a ustar archive: its path and where its bytes lie in the archive. */
export interface TarEntryAt {
  path: string;
  type: 'file' | 'dir' | 'other';
  offset: number;
  size: number;
}

/**
 * The entries of a ustar archive (as netboot's writeTar writes them), reading only the headers.
 * A truncated archive (an entry running past the end) is reported, not skipped.
 */
export async function tarIndex(file: string): Promise<TarEntryAt[]> {
  const fd = await open(file, 'r');
  try {
    const { size: total } = await fd.stat();
    const entries: TarEntryAt[] = [];
    const header = Buffer.alloc(512);
    for (let at = 0; ;) {
      const { bytesRead } = await fd.read(header, 0, 512, at);
      if (bytesRead < 512 || header.every((b) => b === 0)) return entries;
      const field = (start: number, length: number) =>
        header
          .subarray(start, start + length)
          .toString('utf8')
          .replace(/\0.*$/s, '');
      const prefix = field(345, 155);
      const name = (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)).replace(/^\.\//, '');
      const size = parseInt(field(124, 12).trim() || '0', 8);
      const flag = field(156, 1);
      const type = flag === '0' || flag === '' ? 'file' : flag === '5' ? 'dir' : 'other';
      if (at + 512 + size > total)
        throw new RangeError(`${file} is cut short inside ${name} (the archive is incomplete)`);
      entries.push({ path: name, type, offset: at + 512, size });
      at += 512 + Math.ceil(size / 512) * 512;
    }
  } finally {
    await fd.close();
  }
}
