import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compress, decompress } from 'zstd-napi';
import type { ManifestChunk } from '../protocol/manifest.js';
import { createChunkFetcher, largestChunkBody } from './chunk-fetch.js';
import { createHttpClient, type HttpClient } from './http.js';

/**
 * The chunk fetcher against a scripted HTTP server on loopback: whatever the server does wrong,
 * the fetcher either resumes to the right bytes or fails with AGENT_CHUNK_CORRUPT. zstd comes from
 * zstd-napi here, standing in for the board's Node 24 zlib.
 */
function zstd(buf: Buffer, o: { maxOutputLength: number }, cb: (err: Error | null, out: Buffer) => void): void {
  let out: Buffer;
  try {
    out = Buffer.from(decompress(buf));
  } catch (err) {
    return cb(err as Error, Buffer.alloc(0));
  }
  cb(out.length > o.maxOutputLength ? new Error('output too large') : null, out);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const RAW = Buffer.concat([randomBytes(200_000), Buffer.alloc(300_000, 7)]);
let STORED: Buffer;
let chunk: ManifestChunk;
let server: Server;
let http: HttpClient;
let handler: (req: IncomingMessage, res: ServerResponse, n: number) => void;
let requests: IncomingMessage[];

beforeEach(async () => {
  STORED = Buffer.from(compress(RAW));
  chunk = {
    index: 3,
    offsetBytes: 3 * 524288,
    sizeBytes: RAW.length,
    sha256: sha256(RAW),
    storedBytes: STORED.length,
    storedSha256: sha256(STORED),
    used: true,
  };
  requests = [];
  server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  http = createHttpClient(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), { maxSockets: 2 });
});
afterEach(async () => {
  http.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Serves `body` as the chunk's zstd representation, honouring Range like the real server. */
function serve(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  options: { cutAfter?: number; contentLength?: number } = {},
): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m && req.headers['if-range'] === '"etag"' ? Number(m[1]) : 0;
  const part = body.subarray(start);
  res.writeHead(start > 0 ? 206 : 200, {
    'content-encoding': 'zstd',
    etag: '"etag"',
    'content-length': String(options.contentLength ?? part.length),
    ...(start > 0 && { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` }),
  });
  if (options.cutAfter !== undefined) {
    res.write(part.subarray(0, options.cutAfter));
    setTimeout(() => res.socket?.destroy(), 20);
  } else res.end(part);
}

const fetcher = () =>
  createChunkFetcher({
    http,
    deploymentId: 1,
    authHeaders: () => ({ authorization: 'Bearer x' }),
    retry: { giveUpAfterMs: 5_000 },
    zstd,
    largestBodyBytes: largestChunkBody([chunk]),
  });

describe('createChunkFetcher', () => {
  it('fetches a chunk and checks it', async () => {
    handler = (req, res) => serve(req, res, STORED);
    expect((await fetcher().fetch(chunk)).equals(RAW)).toBe(true);
    expect(requests[0]!.headers['accept-encoding']).toBe('zstd');
  });

  it('resumes a cut download with Range and If-Range, twice, and gets the exact bytes', async () => {
    handler = (req, res, n) => serve(req, res, STORED, n < 3 ? { cutAfter: 1000 } : {});
    const f = fetcher();
    expect((await f.fetch(chunk)).equals(RAW)).toBe(true);
    expect(requests.map((r) => r.headers.range)).toEqual([undefined, 'bytes=1000-', 'bytes=2000-']);
    expect(f.stats.resumedRequests).toBe(2);
  });

  it('starts over when the server answers a resume with the whole chunk', async () => {
    handler = (req, res, n) =>
      n === 1
        ? serve(req, res, STORED, { cutAfter: 500 })
        : res
            .writeHead(200, { 'content-encoding': 'zstd', etag: '"new"', 'content-length': String(STORED.length) })
            .end(STORED);
    expect((await fetcher().fetch(chunk)).equals(RAW)).toBe(true);
  });

  // The manifest describes each served body (size and hash) in the first two cases, so the
  // decoder is what must catch them.
  it.each([
    [
      'a truncated zstd frame (length and hash as announced)',
      () => STORED.subarray(0, STORED.length - 40),
      (b: Buffer) => ({ ...chunk, storedBytes: b.length, storedSha256: sha256(b) }),
    ],
    [
      'a frame that decodes to a shorter chunk',
      () => Buffer.from(compress(RAW.subarray(1))),
      (b: Buffer) => ({ ...chunk, storedBytes: b.length, storedSha256: sha256(b) }),
    ],
    [
      'compressed bytes whose SHA-256 is not the stored one',
      () => Buffer.from(compress(Buffer.alloc(RAW.length, 1))),
      (b: Buffer) => ({ ...chunk, storedBytes: b.length }),
    ],
    ['a length other than the manifest says', () => STORED, () => ({ ...chunk, storedBytes: chunk.storedBytes + 1 })],
  ])('fails with AGENT_CHUNK_CORRUPT after 3 tries on %s', async (_case, body, describe) => {
    const bytes = body();
    handler = (req, res) => serve(req, res, bytes);
    const f = fetcher();
    await expect(f.fetch(describe(bytes))).rejects.toMatchObject({ code: 'AGENT_CHUNK_CORRUPT' });
    expect(requests).toHaveLength(3);
    expect(f.stats.corruptChunks).toBe(3);
  });

  // zstd stores a chunk it cannot shrink a little larger than raw: a buffer reused from a chunk that
  // did compress must never receive it (Buffer.copy would drop the tail without a word).
  it.each([
    ['buffers sized from the manifest', (chunks: ManifestChunk[]) => largestChunkBody(chunks)],
    ['a manifest that understates the largest body', () => 1],
  ])('fetches compressible and incompressible chunks in turn with one fetcher (%s)', async (_case, largest) => {
    const noise = randomBytes(RAW.length);
    const storedNoise = Buffer.from(compress(noise));
    expect(storedNoise.length).toBeGreaterThan(noise.length);
    const noisy: ManifestChunk = {
      ...chunk,
      index: 4,
      sha256: sha256(noise),
      storedBytes: storedNoise.length,
      storedSha256: sha256(storedNoise),
    };
    handler = (req, res) => serve(req, res, req.url!.endsWith('/4') ? storedNoise : STORED);
    const f = createChunkFetcher({
      http,
      deploymentId: 1,
      authHeaders: () => ({}),
      retry: { giveUpAfterMs: 5_000 },
      zstd,
      largestBodyBytes: largest([chunk, noisy]),
    });
    for (let round = 0; round < 4; round++) {
      const [a, b] = await Promise.all([f.fetch(chunk), f.fetch(noisy)]);
      expect(a.equals(RAW)).toBe(true);
      expect(b.equals(noise)).toBe(true);
      expect((await f.fetch(noisy)).equals(noise)).toBe(true);
    }
    expect(f.stats.corruptChunks).toBe(0);
  });

  it('says what arrived and blames the agent, not the store, when the same wrong bytes come every time', async () => {
    const wrong = Buffer.from(compress(Buffer.alloc(RAW.length, 1)));
    handler = (req, res) => serve(req, res, wrong);
    const err = await fetcher()
      .fetch({ ...chunk, storedBytes: wrong.length })
      .then(
        () => new Error('fetched'),
        (e: unknown) => e as Error,
      );
    expect(err).toMatchObject({ code: 'AGENT_CHUNK_CORRUPT' });
    expect(err.message).toContain(`is ${sha256(wrong)}, the manifest expects ${chunk.storedSha256}`);
    expect(err.message).toContain(`${wrong.length} bytes received as zstd from GET /v1/deployments/1/chunks/3`);
    expect(err.message).toContain('most likely a fault in the agent');
    expect(err.message).not.toContain('store may be damaged');
  });

  it('points at the link when the wrong bytes differ from try to try', async () => {
    handler = (req, res) => {
      const wrong = Buffer.from(STORED);
      wrong.writeUInt8(wrong.readUInt8(100 + requests.length) ^ 0xff, 100 + requests.length);
      serve(req, res, wrong);
    };
    await expect(fetcher().fetch(chunk)).rejects.toMatchObject({
      code: 'AGENT_CHUNK_CORRUPT',
      message: expect.stringContaining('network link'),
    });
  });

  it('counts a server that says its stored copy is damaged as corrupt, not as a reason to wait', async () => {
    handler = (_req, res) =>
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'damaged', code: 'IMAGE_STORE_CORRUPT' }));
    await expect(fetcher().fetch(chunk)).rejects.toMatchObject({
      code: 'AGENT_CHUNK_CORRUPT',
      message: expect.stringContaining('Delete and import the image again'),
    });
    expect(requests).toHaveLength(3);
  });

  it('retries a struggling server and gives up with AGENT_SERVER_UNREACHABLE', async () => {
    handler = (_req, res) => res.writeHead(503).end('{"error":"closing","code":"X"}');
    const f = createChunkFetcher({
      http,
      deploymentId: 1,
      authHeaders: () => ({}),
      retry: { giveUpAfterMs: 600 },
      zstd,
      largestBodyBytes: largestChunkBody([chunk]),
    });
    await expect(f.fetch(chunk)).rejects.toMatchObject({ code: 'AGENT_SERVER_UNREACHABLE' });
    expect(requests.length).toBeGreaterThan(1);
  });

  it('stops at once on a refusal (a bad token)', async () => {
    handler = (_req, res) => res.writeHead(401).end('{"error":"The token is not valid","code":"DEVICE_TOKEN_INVALID"}');
    await expect(fetcher().fetch(chunk)).rejects.toMatchObject({
      code: 'AGENT_SERVER_REFUSED',
      message: expect.stringContaining('The token is not valid'),
    });
    expect(requests).toHaveLength(1);
  });

  it('asks for the raw chunk when the runtime has no zstd', async () => {
    handler = (req, res) => res.writeHead(200, { etag: '"raw"', 'content-length': String(RAW.length) }).end(RAW);
    const f = createChunkFetcher({
      http,
      deploymentId: 1,
      authHeaders: () => ({}),
      retry: { giveUpAfterMs: 1000 },
      zstd: undefined,
      largestBodyBytes: largestChunkBody([chunk]),
    });
    expect((await f.fetch(chunk)).equals(RAW)).toBe(true);
    expect(requests[0]!.headers['accept-encoding']).toBe('identity');
  });

  it('checks a raw chunk against the SHA-256 of its raw bytes', async () => {
    const wrong = Buffer.from(RAW);
    wrong.writeUInt8(wrong.at(-1)! ^ 1, wrong.length - 1);
    handler = (req, res) => res.writeHead(200, { etag: '"raw"', 'content-length': String(RAW.length) }).end(wrong);
    const f = createChunkFetcher({
      http,
      deploymentId: 1,
      authHeaders: () => ({}),
      retry: { giveUpAfterMs: 1000 },
      zstd: undefined,
      largestBodyBytes: largestChunkBody([chunk]),
    });
    await expect(f.fetch(chunk)).rejects.toMatchObject({
      code: 'AGENT_CHUNK_CORRUPT',
      message: expect.stringContaining('raw bytes'),
    });
  });
});
