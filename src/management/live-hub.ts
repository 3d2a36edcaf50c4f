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

/**
 * Streams written per turn of the event loop. A batch goes to hundreds of streams as that many
 * socket writes (tens of microseconds each on loopback, 4–24 ms for 200 streams measured under
 * load), and the device API shares this event loop: requests that arrive meanwhile are taken in
 * between slices instead of waiting for the whole fan-out (issue 12).
 */
export const STREAMS_PER_TURN = 16;
/** Batches waiting to be written, at most; past it the oldest is written at once, so memory stays bounded. */
const OUTBOX_MAX = 64;

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

/** One batch on its way to the streams that were live when it was gathered, `next` the first not yet written. */
interface Outgoing {
  bytes: Buffer;
  to: Client[];
  next: number;
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
 * event per client took the event loop the device API shares (issue 12). That buffer goes out
 * STREAMS_PER_TURN streams per turn of the event loop, so no fan-out holds the loop for long.
 * Writes never wait on a client; one whose socket backlog is full is dropped (LiveConnection).
 * Reconnects catch up from the history (events with a seq); events without one (progress,
 * warnings) are live only, which is fine: the next one comes within a second or two.
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
  const outbox: Outgoing[] = [];
  let sweeping: NodeJS.Immediate | undefined;

  // Who gets a batch is settled when it is gathered: streams still catching up take it into their
  // pending list at once, live ones get it through the outbox, batches in order, so every stream
  // sees the events in the order they happened.
  function flush(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (batch.length === 0) return;
    const frames = batch;
    batch = [];
    batchBytes = 0;
    const out: Outgoing = { bytes: Buffer.from(frames.map((f) => f.frame).join('')), to: [], next: 0 };
    for (const c of clients) {
      if (!c.pending) out.to.push(c);
      else if (c.pending.length + frames.length <= limits.maxPendingEvents) c.pending.push(...frames);
      else {
        c.pending = [];
        c.overflowed = true;
      }
    }
    if (out.to.length === 0) return;
    if (outbox.length >= OUTBOX_MAX) write(outbox[0]!, Infinity);
    outbox.push(out);
    sweeping ??= setImmediate(sweep);
  }

  /** Writes up to `budget` streams of `out`, drops it from the outbox once all have it; returns the budget left. */
  function write(out: Outgoing, budget: number): number {
    for (; budget > 0 && out.next < out.to.length; budget--) out.to[out.next++]!.conn.write(out.bytes);
    if (out.next === out.to.length) outbox.splice(outbox.indexOf(out), 1);
    return budget;
  }

  function sweep(): void {
    sweeping = undefined;
    let budget = STREAMS_PER_TURN;
    while (budget > 0 && outbox.length > 0) budget = write(outbox[0]!, budget);
    if (outbox.length > 0) sweeping = setImmediate(sweep);
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
      clearImmediate(sweeping);
      outbox.length = 0;
      for (const c of [...clients]) c.conn.drop('server stopping');
    },
  };
}
