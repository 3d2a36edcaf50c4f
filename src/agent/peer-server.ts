import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHUNK_ENCODING_ZSTD } from '../protocol/agent-api.js';

/**
 * The stored (zstd) chunks this board fetched and checked, kept in RAM for the boards it feeds.
 * Bounded: the oldest go first. The boards below fetch in the same order a little behind, so a
 * few hundred MiB hold what they still need; a chunk already dropped is answered "absent" at once
 * and the asking board takes it from the server.
 */
export class PeerCache {
  private readonly bodies = new Map<string, Buffer>();
  private readonly dropped = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private bytes = 0;
  private closed = false;

  constructor(private readonly maxBytes: number) {}

  /** Keeps a copy: the fetcher reuses the buffer it lends. */
  put(storedSha256: string, body: Buffer): void {
    if (this.closed || this.bodies.has(storedSha256) || body.length > this.maxBytes) return;
    this.bodies.set(storedSha256, Buffer.from(body));
    this.dropped.delete(storedSha256);
    this.bytes += body.length;
    for (const [sha, kept] of this.bodies) {
      if (this.bytes <= this.maxBytes) break;
      this.bodies.delete(sha);
      this.dropped.add(sha);
      this.bytes -= kept.length;
    }
    this.wake(storedSha256);
  }

  /** The chunk, waiting up to `waitMs` for it to arrive; undefined if it was dropped, did not come or the cache closed. */
  async get(storedSha256: string, waitMs: number): Promise<Buffer | undefined> {
    const now = this.bodies.get(storedSha256);
    if (now || this.closed || this.dropped.has(storedSha256) || waitMs <= 0) return now;
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(storedSha256) ?? new Set();
      this.waiters.set(storedSha256, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(storedSha256);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      set.add(done);
    });
    return this.bodies.get(storedSha256);
  }

  /** Ends every wait: the board is done and serves nothing more. */
  close(): void {
    this.closed = true;
    for (const sha of [...this.waiters.keys()]) this.wake(sha);
  }

  private wake(storedSha256: string): void {
    for (const done of [...(this.waiters.get(storedSha256) ?? [])]) done();
  }
}

export interface PeerServer {
  port: number;
  /** The swarm's bearer token, from the tracker; until it is set every request is refused. */
  setToken(token: string): void;
  /** Chunks served to other boards so far. */
  readonly served: () => number;
  close(): Promise<void>;
}

const CHUNK_PATH = /^\/v1\/peer\/chunks\/([0-9a-f]{64})$/;
/** Boards a board feeds (the tree's fan-out) times their parallel requests, with room to spare. */
const MAX_CONNECTIONS = 64;

/**
 * `GET /v1/peer/chunks/<storedSha256>` for the boards this one feeds: the stored bytes, as the
 * server would send them with `Accept-Encoding: zstd`. A chunk not here yet is waited for up to
 * `waitMs` (the child is a little ahead); then, or when it is gone, 404 and the child asks the server.
 */
export async function startPeerServer(o: { host: string; cache: PeerCache; waitMs: number }): Promise<PeerServer> {
  let token: Buffer | undefined;
  let served = 0;
  const deny = (res: http.ServerResponse, status: number, code: string, error: string) => {
    const body = JSON.stringify({ error, code });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    const sha = CHUNK_PATH.exec(req.url ?? '')?.[1];
    if (req.method !== 'GET' || !sha) return deny(res, 404, 'PEER_ROUTE_UNKNOWN', 'Only GET /v1/peer/chunks/<sha256>');
    const given = Buffer.from(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    if (!token || given.length !== token.length || !timingSafeEqual(given, token))
      return deny(res, 401, 'PEER_TOKEN_INVALID', "This board serves only its swarm's boards");
    o.cache.get(sha, o.waitMs).then(
      (body) => {
        if (res.destroyed) return;
        if (!body) return deny(res, 404, 'PEER_CHUNK_ABSENT', `Chunk ${sha} is not here; fetch it from the server`);
        served++;
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-encoding': CHUNK_ENCODING_ZSTD,
          'content-length': body.length,
          etag: `"${sha}"`,
        });
        res.end(body);
      },
      (err: unknown) =>
        deny(
          res,
          500,
          'PEER_CACHE_FAILED',
          `Chunk ${sha} could not be read here (${String(err)}); fetch it from the server`,
        ),
    );
  });
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, o.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    setToken: (t) => (token = Buffer.from(t)),
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        o.cache.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
