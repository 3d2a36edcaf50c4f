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
}

export const DEFAULT_LIVE_LIMITS: LiveLimits = { maxBufferedBytes: 1 << 20, maxPendingEvents: 10_000, heartbeatMs: 15_000 };

export interface LiveHub {
  /**
   * Streams to `res`: history after `afterSeq` first (none when undefined: live only), then every
   * event as it happens. `stillAllowed` is asked on each heartbeat; a failure ends the stream.
   */
  attach(res: ServerResponse, afterSeq: number | undefined, stillAllowed: () => Promise<string | null>): Promise<void>;
  readonly clients: number;
  close(): void;
}

interface Client {
  conn: LiveConnection;
  /** Frames that arrived while catching up; null once live. */
  pending: { seq: number | null; frame: string }[] | null;
  overflowed: boolean;
}

const HISTORY_PAGE = 200;
/** EventSource waits this long before reconnecting. */
const RETRY_MS = 2000;

/**
 * Fans the one event stream out to every live client. Each event is serialised once, whatever the
 * number of clients. Reconnects catch up from the history (events with a seq); events without one
 * (progress, warnings) are live only, which is fine: the next one comes within a second or two.
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

  const unsubscribe = deps.events.subscribe((event) => {
    if (clients.size === 0) return;
    const frame = frameOf(null, JSON.stringify(event), event.seq);
    for (const c of clients) {
      if (!c.pending) c.conn.write(frame);
      else if (c.pending.length < limits.maxPendingEvents) c.pending.push({ seq: event.seq, frame });
      else {
        c.pending = [];
        c.overflowed = true;
      }
    }
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
      for (const c of [...clients]) c.conn.drop('server stopping');
    },
  };
}
