import zlib from 'node:zlib';
import { CHUNK_ENCODING_ZSTD, STORE_DAMAGED_CODES, v1Paths } from '../protocol/agent-api.js';
import type { ManifestChunk } from '../protocol/manifest.js';
import { AgentError, TransientError } from './errors.js';
import { classify, readBody, withRetry, type HttpClient, type RetryOptions } from './http.js';
import { refusal } from './server-client.js';
import { sha256Hex } from './sha256.js';

/**
 * A chunk that arrived complete but wrong (bad hash, bad length, undecodable): fetched again from
 * scratch. `received` is the SHA-256 of the bytes that failed, when they were complete: the same
 * wrong bytes again and again are not a network fault. `storeDamaged`: the server said so itself.
 */
class ChunkCorrupt extends Error {
  constructor(
    message: string,
    readonly evidence: { received?: string; storeDamaged?: boolean } = {},
  ) {
    super(message);
  }
}

const SPARE_BUFFERS_MAX = 8;

/** How often a chunk that keeps arriving corrupt is fetched before the agent gives up. */
export const CHUNK_CORRUPT_ATTEMPTS = 3;

type ZstdDecompress = (
  buf: Buffer,
  options: { maxOutputLength: number; chunkSize?: number },
  cb: (err: Error | null, out: Buffer) => void,
) => void;

/** The runtime's zstd decoder (Node ≥ 22.15; the board's Node 24 has it), if any. */
export function runtimeZstd(): ZstdDecompress | undefined {
  const fn = (zlib as unknown as { zstdDecompress?: ZstdDecompress }).zstdDecompress;
  return typeof fn === 'function' ? fn : undefined;
}

/** The most bytes any chunk of the manifest arrives as: raw, or stored (larger than raw when zstd cannot shrink it). */
export function largestChunkBody(chunks: readonly ManifestChunk[]): number {
  return chunks.reduce((n, c) => Math.max(n, c.sizeBytes, c.storedBytes), 0);
}

export interface ChunkFetchStats {
  /** Requests that continued a chunk mid-way (HTTP Range) after a dropped connection. */
  resumedRequests: number;
  corruptChunks: number;
  /** Chunks that came from another board (fleet mode) rather than the server. */
  fromPeers?: number;
}

export interface ChunkFetcher {
  /**
   * The raw bytes of a chunk, checked before anyone may write them: against the SHA-256 of what
   * arrived (raw or compressed) and the chunk's size; a compressed chunk also passes zstd's checksum.
   */
  fetch(chunk: ManifestChunk, signal?: AbortSignal): Promise<Buffer>;
  readonly stats: ChunkFetchStats;
}

/** Where a body came from, for a person reading why it was refused. */
interface Origin {
  path: string;
  encoding: string;
  /** Responses the body was assembled from: more than one when a cut download was resumed with Range. */
  responses: number;
}

const describeOrigin = (bytes: Buffer, from: Origin) =>
  `${bytes.length} bytes received as ${from.encoding} from GET ${from.path}${from.responses > 1 ? ` in ${from.responses} responses (resumed with Range)` : ''}`;

async function expectSha256(
  chunk: ManifestChunk,
  bytes: Buffer,
  want: string,
  what: string,
  from: Origin,
): Promise<void> {
  const got = await sha256Hex(bytes);
  if (got !== want)
    throw new ChunkCorrupt(
      `chunk ${chunk.index}: the SHA-256 of the ${what} bytes is ${got}, the manifest expects ${want} (${describeOrigin(bytes, from)})`,
      { received: got },
    );
}

export function createChunkFetcher(o: {
  http: HttpClient;
  deploymentId: number;
  authHeaders: () => Record<string, string>;
  retry: RetryOptions;
  zstd: ZstdDecompress | undefined;
  /**
   * The largest body a chunk may arrive as (the manifest's largest stored or raw chunk): reused
   * buffers are this size, so any of them holds any chunk, including one zstd could not shrink.
   */
  largestBodyBytes: number;
  onBytes?: (n: number) => void;
  /** Where a chunk is asked for (default: the deployment's chunk route on the server). */
  pathOf?: (chunk: ManifestChunk) => string;
  /** How often a chunk that arrives corrupt is fetched (default CHUNK_CORRUPT_ATTEMPTS). */
  corruptAttempts?: number;
  /** Receives each stored (zstd) body that passed its SHA-256 and decoded; it is reused afterwards, so keep a copy. */
  onStoredBody?: (chunk: ManifestChunk, body: Buffer) => void;
}): ChunkFetcher {
  const stats: ChunkFetchStats = { resumedRequests: 0, corruptChunks: 0, fromPeers: 0 };
  const corruptAttempts = o.corruptAttempts ?? CHUNK_CORRUPT_ATTEMPTS;
  const pathOf = o.pathOf ?? ((chunk: ManifestChunk) => v1Paths.chunk(o.deploymentId, chunk.index));
  // Compressed bodies live only until decoded: their buffers are reused, which spares the
  // garbage collector a few hundred megabytes of short-lived allocations per card.
  const spare: Buffer[] = [];
  const take = (bytes: number) => {
    const reused = spare.pop();
    return reused && reused.length >= bytes ? reused : Buffer.allocUnsafeSlow(Math.max(bytes, o.largestBodyBytes));
  };
  const give = (buf: Buffer) => void (spare.length < SPARE_BUFFERS_MAX && spare.push(buf));

  /** One complete download of the chunk's representation, resuming with Range across dropped connections. */
  async function download(
    chunk: ManifestChunk,
    signal: AbortSignal | undefined,
  ): Promise<{ body: Buffer; from: Origin; reusable: Buffer | undefined }> {
    let buf: Buffer = Buffer.alloc(0);
    let received = 0;
    let validator: string | undefined;
    const from: Origin = { path: pathOf(chunk), encoding: 'identity', responses: 0 };
    return withRetry(
      `chunk ${chunk.index}`,
      async () => {
        const headers: Record<string, string> = {
          ...o.authHeaders(),
          'accept-encoding': o.zstd ? CHUNK_ENCODING_ZSTD : 'identity',
        };
        if (received > 0 && validator) {
          headers['range'] = `bytes=${received}-`;
          headers['if-range'] = validator;
          stats.resumedRequests++;
        }
        const res = await o.http.send({ method: 'GET', path: from.path, headers, signal });
        let total: number;
        if (res.status === 200) {
          received = 0;
          from.responses = 0;
          validator = res.headers.etag;
          from.encoding = res.headers['content-encoding'] ?? 'identity';
          total = Number(res.headers['content-length']);
        } else if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
          if (!m || Number(m[1]) !== received || Number(m[3]) > buf.length) {
            res.body.destroy();
            received = 0;
            throw new TransientError(
              `chunk ${chunk.index}: the server resumed at the wrong place (${res.headers['content-range']})`,
            );
          }
          total = Number(m[3]);
        } else {
          const body = await readBody(res.body, 64 * 1024, signal);
          const code = /"code"\s*:\s*"([A-Z0-9_]+)"/.exec(body.toString('utf8'))?.[1];
          if (code && STORE_DAMAGED_CODES.includes(code))
            throw new ChunkCorrupt(`chunk ${chunk.index}: the server says its stored copy is damaged (${code})`, {
              storeDamaged: true,
            });
          throw refusal(`chunk ${chunk.index}`, res, body);
        }
        const compressed = from.encoding === CHUNK_ENCODING_ZSTD;
        const expected = compressed ? chunk.storedBytes : from.encoding === 'identity' ? chunk.sizeBytes : -1;
        if (total !== expected) {
          res.body.destroy();
          throw new ChunkCorrupt(
            `chunk ${chunk.index}: the server sends ${total} bytes as ${from.encoding}, the manifest says ${expected}`,
          );
        }
        // The raw chunk of an identity answer is kept by the writer: only compressed bodies are reused.
        if (res.status === 200) buf = compressed ? take(total) : Buffer.allocUnsafeSlow(total);
        if (buf.length < total)
          throw new Error(
            `chunk ${chunk.index}: a ${buf.length}-byte buffer for a ${total}-byte body (a fault in the agent)`,
          );
        from.responses++;
        try {
          for await (const part of res.body as AsyncIterable<Buffer>) {
            if (received + part.length > total)
              throw new ChunkCorrupt(`chunk ${chunk.index}: more bytes than announced`);
            part.copy(buf, received);
            received += part.length;
            o.onBytes?.(part.length);
          }
        } catch (err) {
          if (err instanceof ChunkCorrupt) throw err;
          throw classify(err, signal);
        }
        if (received !== total)
          throw new TransientError(`chunk ${chunk.index}: connection ended after ${received} of ${total} bytes`);
        return {
          body: buf.subarray(0, total),
          from,
          reusable: from.encoding === CHUNK_ENCODING_ZSTD ? buf : undefined,
        };
      },
      { ...o.retry, signal },
    );
  }

  /** The raw chunk from what arrived; a compressed body is checked by its own hash before it is decoded. */
  async function decode(chunk: ManifestChunk, body: Buffer, from: Origin): Promise<Buffer> {
    if (from.encoding === 'identity') {
      await expectSha256(chunk, body, chunk.sha256, 'raw', from);
      return body;
    }
    await expectSha256(chunk, body, chunk.storedSha256, 'compressed', from);
    const corrupt = (err: Error) =>
      new ChunkCorrupt(`chunk ${chunk.index}: zstd: ${err.message} (${describeOrigin(body, from)})`);
    return new Promise((resolve, reject) => {
      try {
        // One output buffer one byte larger than the chunk: an output that fills its buffer exactly
        // makes zlib allocate another (unused) one, and the default 16 KiB pieces cost a callback each.
        o.zstd!(
          body,
          { maxOutputLength: chunk.sizeBytes, chunkSize: Math.max(64 * 1024, chunk.sizeBytes + 1) },
          (err, out) => (err ? reject(corrupt(err)) : resolve(out)),
        );
      } catch (err) {
        reject(corrupt(err as Error));
      }
    });
  }

  return {
    stats,
    async fetch(chunk, signal) {
      const failures: ChunkCorrupt[] = [];
      for (let attempt = 1; attempt <= corruptAttempts; attempt++) {
        try {
          const { body, from, reusable } = await download(chunk, signal);
          const raw = await decode(chunk, body, from);
          if (reusable) {
            o.onStoredBody?.(chunk, body);
            give(reusable);
          }
          if (raw.length !== chunk.sizeBytes)
            throw new ChunkCorrupt(`chunk ${chunk.index}: ${raw.length} bytes, expected ${chunk.sizeBytes}`);
          return raw;
        } catch (err) {
          if (!(err instanceof ChunkCorrupt)) throw err;
          stats.corruptChunks++;
          failures.push(err);
        }
      }
      throw new AgentError('AGENT_CHUNK_CORRUPT', corruptVerdict(chunk, failures), {
        chunk: chunk.index,
        received: failures.map((f) => f.evidence.received ?? null),
      });
    },
  };
}

/**
 * What a person should conclude from a chunk that failed every attempt. Bytes that differ from
 * try to try point at the link. The same wrong bytes each time cannot be fixed by fetching again;
 * the server checks a stored chunk against its hash before it sends it whole (and says so when it
 * fails), so then the agent is the likelier culprit.
 */
function corruptVerdict(chunk: ManifestChunk, failures: ChunkCorrupt[]): string {
  const last = failures[failures.length - 1]!.message;
  const seen = new Set(failures.map((f) => f.evidence.received));
  const head = `Chunk ${chunk.index} arrived corrupt ${failures.length} times; last: ${last}.`;
  if (seen.size === 1 && !seen.has(undefined))
    return `${head} The same wrong bytes arrived every time, so fetching again cannot help: this is most likely a fault in the agent (report it with this message), not in the network; if other boards fail on the same chunk, delete and import the image again.`;
  if (failures.every((f) => f.evidence.storeDamaged)) return `${head} Delete and import the image again.`;
  if (seen.size > 1 && !seen.has(undefined))
    return `${head} Different wrong bytes arrived each time: check the board's network link and cable.`;
  return `${head} If other boards fail on the same chunk, delete and import the image again; otherwise check the board's network link.`;
}
