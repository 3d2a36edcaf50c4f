import type { ServerResponse } from 'node:http';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { FleetEvent } from '../protocol/events.js';
import type { HistoryEntry } from '../protocol/fleet.js';
import { frameOf, LiveConnection } from './live-connection.js';

export interface LiveLimits {
  /** Socket backlog per client before it is dropped. */
  maxBufferedBytes: number;
  /** Live events held per client while it catches up from the history. */
  maxPendingEvents: number;
  heartbeatMs: number;
  /** Events are gathered this long (or up to FLUSH_BYTES) and then written to every client as one buffer. */
  flushMs: number;
}

export const DEFAULT_LIVE_LIMITS: LiveLimits = {
  maxBufferedBytes: 1 << 20,
  maxPendingEvents: 10_000,
  heartbeatMs: 15_000,
  flushMs: 100,
};

/** A gathered batch goes out early at this size, well under any client's backlog limit. */
const FLUSH_BYTES = 64 * 1024;

export interface LiveHub {
  /**
   * Streams to `res`: history after `afterSeq` first (none when undefined: live only), then every
   * event as it happens. `stillAllowed` is asked on each heartbeat; a failure ends the stream.
   */
  attach(res: ServerResponse, afterSeq: number | undefined, stillAllowed: () => Promise<string | null>): Promise<void>;
  readonly clients: number;
  close(): void;
}

interface Frame {
  seq: number | null;
  frame: string;
}

interface Client {
  conn: LiveConnection;
  /** Frames that arrived while catching up; null once live. */
  pending: Frame[] | null;
  overflowed: boolean;
}

const HISTORY_PAGE = 200;
/** EventSource waits this long before reconnecting. */
const RETRY_MS = 2000;

/**
 * Fans the one event stream out to every live client. Each event is serialised once, whatever the
 * number of clients, and events are gathered for `flushMs` and written to each client as one
 * buffer: with 200 dashboards open and boards enrolling by the hundred per second, one write per
 * event per client took the event loop the device API shares (issue 12). Writes never wait on a
 * client; one whose socket backlog is full is dropped (LiveConnection). Reconnects catch up from the
 * history (events with a seq); events without one (progress, warnings) are live only, which is
 * fine: the next one comes within a second or two.
 */
export function createLiveHub(deps: {
  events: EventBus<FleetEvent>;
  history: (afterSeq: number, limit: number) => Promise<HistoryEntry[]>;
  headSeq: () => Promise<number>;
  log: Logger;
  limits?: Partial<LiveLimits>;
}): LiveHub {
  const limits = { ...DEFAULT_LIVE_LIMITS, ...deps.limits };
  const clients = new Set<Client>();
  let batch: Frame[] = [];
  let batchBytes = 0;
  let flushTimer: NodeJS.Timeout | undefined;

  function flush(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (batch.length === 0) return;
    const frames = batch;
    batch = [];
    batchBytes = 0;
    const bytes = Buffer.from(frames.map((f) => f.frame).join(''));
    for (const c of clients) {
      if (!c.pending) c.conn.write(bytes);
      else if (c.pending.length + frames.length <= limits.maxPendingEvents) c.pending.push(...frames);
      else {
        c.pending = [];
        c.overflowed = true;
      }
    }
  }

  const unsubscribe = deps.events.subscribe((event) => {
    if (clients.size === 0) return;
    const frame = frameOf(null, JSON.stringify(event), event.seq);
    batch.push({ seq: event.seq, frame });
    batchBytes += frame.length;
    if (batchBytes >= Math.min(FLUSH_BYTES, limits.maxBufferedBytes / 4)) flush();
    else flushTimer ??= setTimeout(flush, limits.flushMs);
  });

  async function catchUp(c: Client, afterSeq: number): Promise<number> {
    let last = afterSeq;
    for (;;) {
      const rows = await deps.history(last, HISTORY_PAGE);
      for (const r of rows) {
        c.conn.write(frameOf(null, JSON.stringify({ seq: r.seq, at: r.at, type: r.type, data: r.data }), r.seq));
        last = r.seq;
      }
      if (!c.conn.isOpen) return last;
      await c.conn.drained();
      if (rows.length < HISTORY_PAGE) {
        // Live events were thrown away while catching up: the history has the kept ones; read on.
        if (!c.overflowed) return last;
        c.overflowed = false;
      }
    }
  }

  return {
    async attach(res, afterSeq, stillAllowed) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: ${RETRY_MS}\n\n`);
      let heartbeat: NodeJS.Timeout | undefined;
      const client: Client = {
        conn: new LiveConnection(res, limits.maxBufferedBytes, (_conn, reason) => {
          clients.delete(client);
          clearInterval(heartbeat);
          if (reason) deps.log.info({ reason }, 'live client dropped');
        }),
        pending: [],
        overflowed: false,
      };
      clients.add(client);
      const last = afterSeq === undefined ? await deps.headSeq() : await catchUp(client, afterSeq);
      if (!client.conn.isOpen) return;
      // Gathered events may be older than `last`: through pending they are filtered like the rest.
      flush();
      for (const p of client.pending ?? []) if (p.seq === null || p.seq > last) client.conn.write(p.frame);
      client.pending = null;
      client.conn.write(frameOf('ready', JSON.stringify({ seq: last }), last));
      heartbeat = setInterval(() => {
        void stillAllowed().then(
          (refusal) => (refusal ? client.conn.drop(refusal) : client.conn.write(': ping\n\n')),
          (err: unknown) => client.conn.drop((err as Error).message),
        );
      }, limits.heartbeatMs);
      heartbeat.unref();
    },
    get clients() {
      return clients.size;
    },
    close() {
      unsubscribe();
      clearTimeout(flushTimer);
      for (const c of [...clients]) c.conn.drop('server stopping');
    },
  };
}
