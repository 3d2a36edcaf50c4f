import { BoundedMap } from '../lib/bounded-map.js';
import type { BlockReader } from '../lib/fat/index.js';
import { ImageError } from './errors.js';

/**
 * Random access to a raw image kept as chunks: reads decompress the chunks they touch, and the
 * last few stay cached, since analysis and boot-file reads come back to the same places.
 */
export function createChunkReader(o: {
  sizeBytes: number;
  chunkSizeBytes: number;
  chunks: readonly { sha256: string; sizeBytes: number }[];
  load: (sha256: string) => Promise<Uint8Array>;
  cacheChunks?: number;
}): BlockReader {
  const cache = new BoundedMap<number, Promise<Uint8Array>>(o.cacheChunks ?? 8);

  function chunk(i: number): Promise<Uint8Array> {
    let p = cache.get(i);
    if (!p) {
      const c = o.chunks[i]!;
      p = o.load(c.sha256).then((raw) => {
        if (raw.length !== c.sizeBytes)
          throw new ImageError(
            'IMAGE_STORE_CORRUPT',
            `Stored chunk ${i} holds ${raw.length} bytes instead of ${c.sizeBytes}`,
            { index: i, sha256: c.sha256 },
          );
        return raw;
      });
      p.catch(() => cache.delete(i));
      cache.set(i, p);
    }
    return p;
  }

  return {
    sizeBytes: o.sizeBytes,
    async read(offsetBytes, lengthBytes) {
      if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > o.sizeBytes) {
        throw new ImageError(
          'IMAGE_RANGE_INVALID',
          `Read of ${lengthBytes} bytes at ${offsetBytes} is outside the ${o.sizeBytes}-byte image`,
          { offsetBytes, lengthBytes },
        );
      }
      const out = new Uint8Array(lengthBytes);
      let done = 0;
      while (done < lengthBytes) {
        const at = offsetBytes + done;
        const i = Math.floor(at / o.chunkSizeBytes);
        const within = at - i * o.chunkSizeBytes;
        const raw = await chunk(i);
        const n = Math.min(lengthBytes - done, raw.length - within);
        out.set(raw.subarray(within, within + n), done);
        done += n;
      }
      return out;
    },
  };
}
