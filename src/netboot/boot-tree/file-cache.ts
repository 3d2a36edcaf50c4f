import { readFile, stat } from 'node:fs/promises';

/**
 * Boot files kept in memory for TFTP: a board reads each file at least twice (probe, then read)
 * and fifty boards read the same kernel, so each is loaded once per change. Bounded by bytes; the
 * least recently used go first. A load that fails is not kept.
 */
export interface BytesCache {
  /** The bytes under `key`, loading them with `load` when absent (concurrent callers share one load). */
  get(key: string, load: () => Promise<Buffer | undefined>): Promise<Buffer | undefined>;
}

export function createBytesCache(maxBytes: number): BytesCache {
  const entries = new Map<string, Promise<Buffer | undefined>>();
  const sizes = new Map<string, number>();
  let total = 0;
  const evict = () => {
    for (const [key, size] of sizes) {
      if (total <= maxBytes) break;
      sizes.delete(key);
      entries.delete(key);
      total -= size;
    }
  };
  return {
    get(key, load) {
      const hit = entries.get(key);
      if (hit) {
        // Most recently used goes last in both maps.
        entries.delete(key);
        entries.set(key, hit);
        const size = sizes.get(key);
        if (size !== undefined) {
          sizes.delete(key);
          sizes.set(key, size);
        }
        return hit;
      }
      const loading = load();
      entries.set(key, loading);
      loading.then(
        (bytes) => {
          if (entries.get(key) !== loading) return;
          if (!bytes || bytes.length > maxBytes) return void entries.delete(key);
          sizes.set(key, bytes.length);
          total += bytes.length;
          evict();
        },
        () => entries.get(key) === loading && entries.delete(key),
      );
      return loading;
    },
  };
}

/** A file's bytes through the cache, keyed by path, size and mtime so a replaced file is read again. */
export async function readCachedFile(cache: BytesCache, path: string): Promise<Buffer> {
  const st = await stat(path);
  const bytes = await cache.get(`file:${path}:${st.size}:${st.mtimeMs}`, () => readFile(path));
  return bytes!;
}
