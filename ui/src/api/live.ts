import type { FleetEvent } from '../../../src/protocol/events.js';
import { apiUrl } from './client.js';

/**
 * The one live subscription of the UI: the management API's event stream (Server-Sent Events at
 * `GET /api/v1/events?after=<seq>`: fleet events as unnamed messages, control messages `ready`
 * {seq} after the catch-up and `dropped` {reason} before the server gives up on a slow reader),
 * read with `fetch` rather than `EventSource` so that the
 * reconnect carries `after=<last seq seen>` (catch-up from the history, no gap, no duplicate) and
 * so that a 401 stops the loop instead of retrying forever.
 */

export type LiveState =
  /** first connection, or a reconnect in progress */
  | 'connecting'
  /** the stream is open; events arrive as they happen */
  | 'live'
  /** the connection dropped; the next attempt waits `retryInMs` */
  | 'offline'
  /** the session ended (401): log in again, then resubscribe */
  | 'unauthorized'
  | 'closed';

export interface LiveStatus {
  state: LiveState;
  /** the highest history sequence number seen; the next connection asks for everything after it */
  lastSeq: number | null;
  /** consecutive failed attempts (0 while live) */
  failures: number;
  retryInMs?: number;
  reason?: string;
}

export interface LiveOptions {
  onEvent: (event: FleetEvent) => void;
  onStatus?: (status: LiveStatus) => void;
  /** the catch-up is complete (the server's `ready` control message): a good time to refresh snapshots */
  onReady?: (status: LiveStatus) => void;
  /** start after this sequence number (catch-up on the first connection too) */
  after?: number | null;
  /** a connection that stays silent this long is dead (the server sends a heartbeat comment) */
  idleTimeoutMs?: number;
  /** wait before attempt n (1-based) after a failure */
  retryDelayMs?: (failures: number) => number;
  /** defaults to the same origin's `/api/v1/events` */
  url?: string;
  fetch?: typeof fetch;
}

export interface LiveSubscription {
  close(): void;
  /** reconnect now (after a wake-up or a new login) instead of waiting for the retry timer */
  reconnect(): void;
  status(): LiveStatus;
}

export const LIVE_IDLE_TIMEOUT_MS = 45_000;

/** 0.5 s, 1 s, 2 s, … capped at 10 s: fast after a blip, gentle while the server is down. */
export function defaultRetryDelayMs(failures: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, failures - 1));
}

/** One Server-Sent Events message: the fields the spec defines that this stream uses. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Incremental SSE parser (WHATWG HTML §9.2.6): feed it text as it arrives, in any chunking; it
 * returns the messages completed by that text. Comment lines (`: heartbeat`) are dropped.
 */
export function createSseParser(): (chunk: string) => SseMessage[] {
  let buffer = '';
  let data: string[] = [];
  let id: string | undefined;
  let event: string | undefined;
  return (chunk) => {
    buffer += chunk;
    const out: SseMessage[] = [];
    let newline: RegExpExecArray | null;
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    while ((newline = lineEnd.exec(buffer))) {
      // A lone '\r' at the end of the buffer may be the first half of '\r\n': wait for more.
      if (newline[0] === '\r' && newline.index === buffer.length - 1) break;
      const line = buffer.slice(start, newline.index);
      start = newline.index + newline[0].length;
      if (line === '') {
        if (data.length > 0)
          out.push({ data: data.join('\n'), ...(id !== undefined && { id }), ...(event !== undefined && { event }) });
        data = [];
        event = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'event') event = value;
    }
    buffer = buffer.slice(start);
    return out;
  };
}

const RECONNECT_REQUESTED = 'reconnect requested';

/** One attempt's fetch, and why it was aborted when it was. */
interface Connection {
  controller: AbortController;
  why: string | undefined;
  abort(why: string): void;
}

function openConnection(): Connection {
  const conn: Connection = {
    controller: new AbortController(),
    why: undefined,
    abort(why) {
      conn.why ??= why;
      conn.controller.abort();
    },
  };
  return conn;
}

function isFleetEvent(value: unknown): value is FleetEvent {
  const e = value as Partial<FleetEvent> | null;
  return (
    typeof e === 'object' && e !== null && typeof e.type === 'string' && typeof e.data === 'object' && e.data !== null
  );
}

export function subscribeLive(options: LiveOptions): LiveSubscription {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const idleTimeoutMs = options.idleTimeoutMs ?? LIVE_IDLE_TIMEOUT_MS;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  let status: LiveStatus = { state: 'connecting', lastSeq: options.after ?? null, failures: 0 };
  let closed = false;
  let current: Connection | undefined;
  let wake: (() => void) | undefined;

  const setStatus = (next: Partial<LiveStatus>) => {
    const { retryInMs: _r, reason: _s, ...kept } = status;
    status = { ...kept, ...next };
    options.onStatus?.(status);
  };

  const deliver = (message: SseMessage, conn: Connection) => {
    let event: unknown;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // not an event (a malformed line must not stop the stream)
    }
    if (message.event === 'ready') {
      // The server has sent the catch-up; from here on the stream is live. Its seq covers events
      // that were not for us to see, so the next reconnect need not ask for them again.
      const seq = (event as { seq?: unknown }).seq;
      if (typeof seq === 'number' && (status.lastSeq === null || seq > status.lastSeq))
        status = { ...status, lastSeq: seq };
      options.onReady?.(status);
      return;
    }
    if (message.event === 'dropped') {
      const reason = (event as { reason?: unknown }).reason;
      conn.abort(`the server dropped the stream: ${typeof reason === 'string' ? reason : 'no reason given'}`);
      return;
    }
    if (message.event !== undefined && message.event !== 'message') return;
    if (!isFleetEvent(event)) return;
    const seq = typeof event.seq === 'number' ? event.seq : null;
    if (seq !== null) {
      // The catch-up and the live tail may overlap by a few events: each one is delivered once.
      if (status.lastSeq !== null && seq <= status.lastSeq) return;
      status = { ...status, lastSeq: seq };
    }
    options.onEvent(event);
  };

  /** Reads one connection to its end; resolves with why it ended. */
  async function readOnce(conn: Connection): Promise<{ ended: string; stop?: boolean; gotData: boolean }> {
    const base = options.url ?? apiUrl('/events');
    const after = status.lastSeq;
    const target = after === null ? base : `${base}${base.includes('?') ? '&' : '?'}after=${after}`;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => conn.abort('no heartbeat from the server'), idleTimeoutMs);
    };
    let gotData = false;
    try {
      armIdle();
      const res = await doFetch(target, {
        headers: { Accept: 'text/event-stream' },
        credentials: 'same-origin',
        cache: 'no-store',
        signal: conn.controller.signal,
      });
      if (res.status === 401) return { ended: 'the session has ended; log in again', stop: true, gotData };
      if (!res.ok || !res.body) return { ended: `the server answered ${res.status}`, gotData };
      setStatus({ state: 'live', failures: 0 });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parse = createSseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { ended: 'the server closed the stream', gotData };
        armIdle();
        gotData = true;
        for (const message of parse(value)) deliver(message, conn);
      }
    } catch {
      return { ended: conn.why ?? 'the connection was lost', gotData };
    } finally {
      clearTimeout(idle);
    }
  }

  async function loop() {
    while (!closed) {
      current = openConnection();
      const result = await readOnce(current);
      if (closed) break;
      if (result.stop) {
        setStatus({ state: 'unauthorized', reason: result.ended });
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const failures = result.gotData ? 1 : status.failures + 1;
      const retryInMs = result.ended === RECONNECT_REQUESTED ? 0 : retryDelayMs(failures);
      setStatus({ state: 'offline', failures, retryInMs, reason: result.ended });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryInMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!closed) setStatus({ state: 'connecting' });
    }
    setStatus({ state: 'closed' });
  }

  options.onStatus?.(status);
  void loop();

  return {
    close() {
      closed = true;
      current?.abort('closed');
      wake?.();
    },
    reconnect() {
      if (status.state === 'live') current?.abort(RECONNECT_REQUESTED);
      else wake?.();
    },
    status: () => status,
  };
}
