import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { CHUNK_ENCODING_ZSTD, STORE_DAMAGED_CODES, v1Paths } from '../protocol/agent-api.js';
import type { ManifestChunk } from '../protocol/manifest.js';
import { AgentError, TransientError } from './errors.js';
import { classify, readBody, withRetry, type HttpClient, type RetryOptions } from './http.js';
import { refusal } from './server-client.js';

/** A chunk that arrived complete but wrong (bad hash, bad length, undecodable): fetched again from scratch. */
class ChunkCorrupt extends Error {}

/** How often a chunk that keeps arriving corrupt is fetched before the agent gives up. */
export const CHUNK_CORRUPT_ATTEMPTS = 3;

type ZstdDecompress = (buf: Buffer, options: { maxOutputLength: number }, cb: (err: Error | null, out: Buffer) => void) => void;

/** The runtime's zstd decoder (Node ≥ 22.15; the board's Node 24 has it), if any. */
export function runtimeZstd(): ZstdDecompress | undefined {
  const fn = (zlib as unknown as { zstdDecompress?: ZstdDecompress }).zstdDecompress;
  return typeof fn === 'function' ? fn : undefined;
}

export interface ChunkFetchStats {
  /** Requests that continued a chunk mid-way (HTTP Range) after a dropped connection. */
  resumedRequests: number;
  corruptChunks: number;
}

export interface ChunkFetcher {
  /** The raw bytes of a chunk, checked against its SHA-256 and size before anyone may write them. */
  fetch(chunk: ManifestChunk, signal?: AbortSignal): Promise<Buffer>;
  readonly stats: ChunkFetchStats;
}

export function createChunkFetcher(o: {
  http: HttpClient;
  deploymentId: number;
  authHeaders: () => Record<string, string>;
  retry: RetryOptions;
  zstd: ZstdDecompress | undefined;
  onBytes?: (n: number) => void;
}): ChunkFetcher {
  const stats: ChunkFetchStats = { resumedRequests: 0, corruptChunks: 0 };

  /** One complete download of the chunk's representation, resuming with Range across dropped connections. */
  async function download(chunk: ManifestChunk, signal: AbortSignal | undefined): Promise<{ body: Buffer; encoding: string }> {
    let parts: Buffer[] = [];
    let received = 0;
    let validator: string | undefined;
    let encoding = 'identity';
    return withRetry(
      `chunk ${chunk.index}`,
      async () => {
        const headers: Record<string, string> = { ...o.authHeaders(), 'accept-encoding': o.zstd ? CHUNK_ENCODING_ZSTD : 'identity' };
        if (received > 0 && validator) {
          headers['range'] = `bytes=${received}-`;
          headers['if-range'] = validator;
          stats.resumedRequests++;
        }
        const res = await o.http.send({ method: 'GET', path: v1Paths.chunk(o.deploymentId, chunk.index), headers, signal });
        let total: number;
        if (res.status === 200) {
          parts = [];
          received = 0;
          validator = res.headers.etag;
          encoding = res.headers['content-encoding'] ?? 'identity';
          total = Number(res.headers['content-length']);
        } else if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
          if (!m || Number(m[1]) !== received) {
            res.body.destroy();
            parts = [];
            received = 0;
            throw new TransientError(`chunk ${chunk.index}: the server resumed at the wrong place (${res.headers['content-range']})`);
          }
          total = Number(m[3]);
        } else {
          const body = await readBody(res.body, 64 * 1024, signal);
          const code = /"code"\s*:\s*"([A-Z0-9_]+)"/.exec(body.toString('utf8'))?.[1];
          if (code && STORE_DAMAGED_CODES.includes(code)) throw new ChunkCorrupt(`chunk ${chunk.index}: the server says its stored copy is damaged (${code})`);
          throw refusal(`chunk ${chunk.index}`, res, body);
        }
        const expected = encoding === CHUNK_ENCODING_ZSTD ? chunk.storedBytes : encoding === 'identity' ? chunk.sizeBytes : -1;
        if (total !== expected) {
          res.body.destroy();
          throw new ChunkCorrupt(`chunk ${chunk.index}: the server sends ${total} bytes as ${encoding}, the manifest says ${expected}`);
        }
        try {
          for await (const part of res.body as AsyncIterable<Buffer>) {
            received += part.length;
            if (received > total) throw new ChunkCorrupt(`chunk ${chunk.index}: more bytes than announced`);
            parts.push(part);
            o.onBytes?.(part.length);
          }
        } catch (err) {
          if (err instanceof ChunkCorrupt) throw err;
          throw classify(err, signal);
        }
        if (received !== total) throw new TransientError(`chunk ${chunk.index}: connection ended after ${received} of ${total} bytes`);
        return { body: Buffer.concat(parts, received), encoding };
      },
      { ...o.retry, signal },
    );
  }

  async function decode(chunk: ManifestChunk, body: Buffer, encoding: string): Promise<Buffer> {
    if (encoding === 'identity') return body;
    return new Promise((resolve, reject) => {
      o.zstd!(body, { maxOutputLength: chunk.sizeBytes }, (err, out) => (err ? reject(new ChunkCorrupt(`chunk ${chunk.index}: zstd: ${err.message}`)) : resolve(out)));
    });
  }

  return {
    stats,
    async fetch(chunk, signal) {
      let last = '';
      for (let attempt = 1; attempt <= CHUNK_CORRUPT_ATTEMPTS; attempt++) {
        try {
          const { body, encoding } = await download(chunk, signal);
          const raw = await decode(chunk, body, encoding);
          if (raw.length !== chunk.sizeBytes) throw new ChunkCorrupt(`chunk ${chunk.index}: ${raw.length} bytes, expected ${chunk.sizeBytes}`);
          const sha256 = createHash('sha256').update(raw).digest('hex');
          if (sha256 !== chunk.sha256) throw new ChunkCorrupt(`chunk ${chunk.index}: SHA-256 ${sha256}, expected ${chunk.sha256}`);
          return raw;
        } catch (err) {
          if (!(err instanceof ChunkCorrupt)) throw err;
          stats.corruptChunks++;
          last = err.message;
        }
      }
      throw new AgentError('AGENT_CHUNK_CORRUPT', `Chunk ${chunk.index} arrived corrupt ${CHUNK_CORRUPT_ATTEMPTS} times (${last}); the image in the server's store may be damaged`, {
        chunk: chunk.index,
      });
    },
  };
}
