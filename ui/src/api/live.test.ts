import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../../src/protocol/events.js';
import { createSseParser, defaultRetryDelayMs, subscribeLive, type LiveStatus, type LiveSubscription } from './live.js';

/** A real SSE server on loopback; each test scripts what every connection gets. */
type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

let server: Server | undefined;
let sub: LiveSubscription | undefined;
afterEach(async () => {
  sub?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function sseServer(handler: Handler): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events`, requests };
}

function event(seq: number | null, hostname = `KXP2-CORO-${String(seq).padStart(3, '0')}`): FleetEvent {
  return {
    seq,
    at: new Date(0).toISOString(),
    type: 'hostname.assigned',
    data: { serial: `s${seq}`, hostname, venue: 'CORO', product: 'KXP2', batchId: null, reused: false },
  };
}

function open(res: ServerResponse) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
  res.flushHeaders();
}
const frame = (e: FleetEvent) => `id: ${e.seq ?? ''}\ndata: ${JSON.stringify(e)}\n\n`;

function collect(url: string, extra: { idleTimeoutMs?: number } = {}) {
  const events: FleetEvent[] = [];
  const states: LiveStatus[] = [];
  sub = subscribeLive({
    url,
    onEvent: (e) => events.push(e),
    onStatus: (s) => states.push(s),
    retryDelayMs: () => 20,
    ...extra,
  });
  return { events, states };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000) {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('createSseParser', () => {
  it.each([
    ['one message in one chunk', ['data: a\n\n'], ['a']],
    ['a message split across chunks, CRLF split too', ['da', 'ta: a\r', '\n\r\n'], ['a']],
    ['multi-line data joined by newlines', ['data: a\ndata: b\n\n'], ['a\nb']],
    ['comments (heartbeats) dropped', [': ping\n\n', 'data: x\n\n'], ['x']],
    ['no blank line yet: nothing', ['data: a\n'], []],
  ])('%s', (_case, chunks, want) => {
    const parse = createSseParser();
    expect(chunks.flatMap((c) => parse(c)).map((m) => m.data)).toEqual(want);
  });

  it('keeps the id and event fields', () => {
    expect(createSseParser()('id: 7\nevent: fleet\ndata: {}\n\n')).toEqual([{ id: '7', event: 'fleet', data: '{}' }]);
  });
});

describe('subscribeLive', () => {
  it('reconnects by itself after the server drops it and catches up after the last seq, each event once', async () => {
    const { url, requests } = await sseServer((_req, res, attempt) => {
      open(res);
      if (attempt === 1) {
        res.write(frame(event(1)) + frame(event(2)));
        setTimeout(() => res.destroy(), 30);
      } else {
        // The catch-up overlaps what was already delivered: seq 2 again, then the missed 3 and 4.
        res.write(frame(event(2)) + frame(event(3)) + frame(event(4)));
      }
    });
    const { events, states } = collect(url);
    await until(() => events.length >= 4, 'four events');
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(requests).toEqual(['/api/v1/events', '/api/v1/events?after=2']);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'live', 'offline', 'connecting', 'live']);
    expect(sub!.status().lastSeq).toBe(4);
  });

  it('delivers events without a seq (progress) but does not count them for catch-up', async () => {
    const { url, requests } = await sseServer((_req, res, attempt) => {
      open(res);
      res.write(attempt === 1 ? frame(event(5)) + frame(event(null, 'progress')) : frame(event(6)));
      if (attempt === 1) setTimeout(() => res.destroy(), 30);
    });
    const { events } = collect(url);
    await until(() => events.length >= 3, 'three events');
    expect(events.map((e) => e.seq)).toEqual([5, null, 6]);
    expect(requests[1]).toBe('/api/v1/events?after=5');
  });

  it('starts after the given seq and skips malformed messages without stopping', async () => {
    const { url, requests } = await sseServer((_req, res) => {
      open(res);
      res.write('data: not json\n\n' + 'data: {"type":1}\n\n' + frame(event(11)));
    });
    const events: FleetEvent[] = [];
    sub = subscribeLive({ url, after: 10, onEvent: (e) => events.push(e) });
    await until(() => events.length === 1, 'the valid event');
    expect(requests).toEqual(['/api/v1/events?after=10']);
  });

  it('takes the seq of a "ready" control message as the catch-up point, and reconnects when "dropped"', async () => {
    const { url, requests } = await sseServer((_req, res, attempt) => {
      open(res);
      if (attempt === 1)
        res.write(
          frame(event(3)) + 'event: ready\ndata: {"seq":40}\n\n' + 'event: dropped\ndata: {"reason":"too slow"}\n\n',
        );
      else res.write('event: ready\ndata: {"seq":41}\n\n' + frame(event(42)));
    });
    const ready: number[] = [];
    const events: FleetEvent[] = [];
    const states: LiveStatus[] = [];
    sub = subscribeLive({
      url,
      onEvent: (e) => events.push(e),
      onReady: (s) => ready.push(s.lastSeq!),
      onStatus: (s) => states.push(s),
      retryDelayMs: () => 20,
    });
    await until(() => events.length === 2, 'the event after the drop');
    expect(requests).toEqual(['/api/v1/events', '/api/v1/events?after=40']);
    expect(ready).toEqual([40, 41]);
    expect(states.find((s) => s.state === 'offline')?.reason).toBe('the server dropped the stream: too slow');
  });

  it('keeps retrying while the server answers errors, with growing delays', async () => {
    const { url, requests } = await sseServer((_req, res, attempt) => {
      if (attempt < 3) {
        res.writeHead(503).end();
        return;
      }
      open(res);
      res.write(frame(event(1)));
    });
    const { events, states } = collect(url);
    await until(() => events.length === 1, 'the event after two failures');
    expect(requests).toHaveLength(3);
    expect(states.filter((s) => s.state === 'offline').map((s) => [s.failures, s.reason])).toEqual([
      [1, 'the server answered 503'],
      [2, 'the server answered 503'],
    ]);
    expect([1, 2, 3, 4, 5, 6].map(defaultRetryDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 10000]);
  });

  it('stops on 401 until asked to reconnect (after a new login)', async () => {
    let authorised = false;
    const { url, requests } = await sseServer((_req, res) => {
      if (!authorised) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"log in","code":"AUTH_REQUIRED"}');
        return;
      }
      open(res);
      res.write(frame(event(1)));
    });
    const { events, states } = collect(url);
    await until(() => states.at(-1)?.state === 'unauthorized', 'unauthorized');
    await new Promise((r) => setTimeout(r, 100));
    expect(requests).toHaveLength(1);
    authorised = true;
    sub!.reconnect();
    await until(() => events.length === 1, 'the event after login');
  });

  it('treats a silent connection as dead and reconnects', async () => {
    const { url, requests } = await sseServer((_req, res, attempt) => {
      open(res);
      res.write(frame(event(attempt)));
      // then silence: no heartbeat
    });
    const { events, states } = collect(url, { idleTimeoutMs: 150 });
    await until(() => events.length >= 2, 'an event from a second connection');
    expect(states.find((s) => s.state === 'offline')?.reason).toBe('no heartbeat from the server');
    expect(requests[1]).toBe('/api/v1/events?after=1');
  });

  it('close() ends the loop and aborts the open stream', async () => {
    const { url } = await sseServer((_req, res) => open(res));
    const { states } = collect(url);
    await until(() => states.at(-1)?.state === 'live', 'live');
    sub!.close();
    await until(() => states.at(-1)?.state === 'closed', 'closed');
  });
});
