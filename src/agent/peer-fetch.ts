import { connect } from 'node:net';
import type { ManifestChunk } from '../protocol/manifest.js';
import type { PeerFault, PeerParent } from '../protocol/peers.js';
import { peerPaths } from '../protocol/peers.js';
import { createChunkFetcher, type ChunkFetcher } from './chunk-fetch.js';
import { AgentError } from './errors.js';
import { createHttpClient, type HttpClient } from './http.js';
import type { AgentLog } from './log.js';
import { PeerCache, startPeerServer, type PeerServer } from './peer-server.js';
import type { ServerClient } from './server-client.js';

export interface PeerOptions {
  /** Address the peer server listens on; default: the board's address toward the server (its LAN, only). */
  host: string | undefined;
  /** RAM kept for the boards this one feeds. */
  cacheBytes: number;
  /** How long a parent holds a request for a chunk it does not have yet, before it answers absent. */
  waitMs: number;
}

export const PEER_DEFAULTS: PeerOptions = { host: undefined, cacheBytes: 512 * 1024 * 1024, waitMs: 5_000 };

/** Misses in a row (the parent does not have the chunk in time) before a board asks for another parent. */
const SLOW_MISSES_MAX = 3;
const DEAD_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** The address this host reaches the server from: the one other boards on its LAN reach it at. */
function localAddressToward(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) },
      () => {
        resolve(socket.localAddress!);
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

/** Why a request to the parent failed, for the tracker: a dead parent leaves the tree, a bad one is avoided. */
function faultOf(err: unknown): PeerFault {
  if (err instanceof AgentError && err.code === 'AGENT_CHUNK_CORRUPT') return 'corrupt';
  for (let e: unknown = err; e instanceof Error; e = e.cause)
    if (DEAD_CODES.has((e as NodeJS.ErrnoException).code ?? '')) return 'unreachable';
  return 'slow';
}

/**
 * Fleet mode's chunk source, behind the same interface as the server's: a chunk is asked of the
 * board's parent first (one try, checked against the manifest like any chunk) and, when that
 * fails for any reason, fetched from the server. Every stored body that passed its check is kept
 * for the boards this one feeds. A parent that is gone, corrupt or keeps missing is reported to
 * the tracker, which places this board again.
 */
export async function createPeerFetcher(o: {
  server: ChunkFetcher;
  serverUrl: URL;
  client: ServerClient;
  deploymentId: number;
  largestBodyBytes: number;
  parallel: number;
  zstd: Parameters<typeof createChunkFetcher>[0]['zstd'];
  peers: PeerOptions;
  log: AgentLog;
  signal: AbortSignal;
  /** The server fetcher's `onStoredBody` is wired to this: bodies from the server feed the cache too. */
  cache: PeerCache;
}): Promise<{ fetcher: ChunkFetcher; close(): Promise<void> } | undefined> {
  let peerServer: PeerServer;
  try {
    const host = o.peers.host ?? (await localAddressToward(o.serverUrl));
    peerServer = await startPeerServer({ host, cache: o.cache, waitMs: o.peers.waitMs });
  } catch (err) {
    o.log.warn(`fleet mode off: no peer server (${(err as Error).message})`);
    return undefined;
  }
  let parent: { info: PeerParent; http: HttpClient; fetcher: ChunkFetcher } | undefined;
  let swarmToken = '';
  let misses = 0;
  let joining: Promise<void> | undefined;
  const patience = { signal: o.signal, giveUpAfterMs: 0 };

  const useParent = (info: PeerParent | null) => {
    parent?.http.close();
    parent = undefined;
    misses = 0;
    if (!info) return;
    // The parent holds a request up to waitMs; silence longer than that means it is stuck.
    const http = createHttpClient(new URL(info.url), {
      maxSockets: o.parallel + 2,
      idleTimeoutMs: o.peers.waitMs + 5_000,
    });
    const fetcher = createChunkFetcher({
      http,
      deploymentId: o.deploymentId,
      authHeaders: () => ({ authorization: `Bearer ${swarmToken}` }),
      // One try: a miss costs a server request, not a wait.
      retry: { signal: o.signal, giveUpAfterMs: -1 },
      zstd: o.zstd,
      largestBodyBytes: o.largestBodyBytes,
      pathOf: (c) => peerPaths.chunk(c.storedSha256),
      corruptAttempts: 1,
      onStoredBody: (c, body) => o.cache.put(c.storedSha256, body),
    });
    parent = { info, http, fetcher };
  };

  const join = async (failedParent?: { peerId: number; fault: PeerFault }) => {
    const reply = await o.client.joinSwarm({ port: peerServer.port, ...(failedParent && { failedParent }) }, patience);
    if (!reply.enabled) return false;
    swarmToken = reply.swarmToken;
    peerServer.setToken(reply.swarmToken);
    useParent(reply.parent);
    o.log.info(reply.parent ? `fleet mode: fed by ${reply.parent.url}` : 'fleet mode: fed by the server', {
      ...(failedParent && { left: failedParent.peerId, because: failedParent.fault }),
    });
    return true;
  };

  let enabled: boolean;
  try {
    enabled = await join();
  } catch (err) {
    if (o.signal.aborted) throw err;
    o.log.warn(`fleet mode off: the server's tracker did not answer (${(err as Error).message})`);
    enabled = false;
  }
  if (!enabled) {
    await peerServer.close();
    return undefined;
  }

  const rejoin = (from: PeerParent, fault: PeerFault) => {
    if (joining || parent?.info !== from) return;
    joining = join({ peerId: from.peerId, fault })
      .then(() => undefined)
      .catch((err: unknown) => {
        // Without an answer the board keeps to the server: slower, never wrong.
        if (!o.signal.aborted) o.log.warn(`fleet mode: re-joining failed (${(err as Error).message})`);
        useParent(null);
      })
      .finally(() => (joining = undefined));
  };

  const stats = o.server.stats;
  stats.fromPeers = 0;
  const fetcher: ChunkFetcher = {
    stats,
    async fetch(chunk: ManifestChunk, signal?: AbortSignal) {
      const from = parent;
      if (from) {
        try {
          const raw = await from.fetcher.fetch(chunk, signal);
          stats.fromPeers = (stats.fromPeers ?? 0) + 1;
          if (parent === from) misses = 0;
          return raw;
        } catch (err) {
          if (signal?.aborted || o.signal.aborted) throw err;
          const fault = faultOf(err);
          if (fault !== 'slow' || (parent === from && ++misses >= SLOW_MISSES_MAX)) rejoin(from.info, fault);
        }
      }
      return o.server.fetch(chunk, signal);
    },
  };
  return {
    fetcher,
    async close() {
      await joining;
      parent?.http.close();
      await peerServer.close();
    },
  };
}
