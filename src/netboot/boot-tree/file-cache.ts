import { readFile, stat } from 'node:fs/promises';

/**
 * Whole files kept in memory for TFTP: a board reads each boot file at least twice (probe, then
 * read) and fifty boards read the same kernel, so the disk is read once per change. Entries are
 * keyed by path, size and mtime, and the least recently used go first beyond `maxBytes`.
 */
export interface FileCache {
  read(path: string): Promise<Buffer>;
}

export function createFileCache(maxBytes: number): FileCache {
  const entries = new Map<string, { bytes: Buffer; size: number; mtimeMs: number }>();
  let total = 0;
  return {
    async read(path) {
      const st = await stat(path);
      const hit = entries.get(path);
      if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) {
        entries.delete(path);
        entries.set(path, hit);
        return hit.bytes;
      }
      const bytes = await readFile(path);
      if (hit) {
        entries.delete(path);
        total -= hit.bytes.length;
      }
      if (bytes.length <= maxBytes) {
        entries.set(path, { bytes, size: st.size, mtimeMs: st.mtimeMs });
        total += bytes.length;
        for (const [key, old] of entries) {
          if (total <= maxBytes) break;
          entries.delete(key);
          total -= old.bytes.length;
        }
      }
      return bytes;
    },
  };
}
