import { request as httpRequest, type IncomingMessage } from 'node:http';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../src/protocol/events.js';
import { signedIn, type ManagementClient } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

const MAX_BUFFERED = 64 * 1024;
let server: TestServer;
let viewer: ManagementClient;
let serial = 0x30000000;

beforeAll(async () => {
  server = await startServer({ liveLimits: { maxBufferedBytes: MAX_BUFFERED, heartbeatMs: 200 } });
  viewer = await signedIn(server, 'vera', 'viewer');
  await server.app.fleet.venues.create({ code: 'LIVE', name: 'Live' });
});
afterAll(() => server.stop());

/** A real EventSource client (the `eventsource` package, WHATWG-compatible) carrying the session cookie. */
function connect(query = '', cookie = viewer.cookie!) {
  const events: FleetEvent[] = [];
  const named: { type: string; data: unknown }[] = [];
  const es = new EventSource(`${server.management}/api/v1/events${query}`, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie } }),
  });
  es.onmessage = (e) => events.push(JSON.parse(e.data as string) as FleetEvent);
  for (const type of ['ready', 'dropped'])
    es.addEventListener(type, (e) => named.push({ type, data: JSON.parse(e.data as string) }));
  return { es, events, named };
}

async function until(what: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function enrollBoards(n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await server.app.fleet.enrollment.enroll({ serial: (serial++).toString(16), venue: 'LIVE', product: 'RXP2' });
}

describe('live events (SSE)', () => {
  it('delivers every event in order, live-only ones too, after a ready mark', async () => {
    const c = connect();
    await until(() => c.named.some((n) => n.type === 'ready'));
    const before = await server.app.fleet.records.lastSeq();
    await enrollBoards(10);
    server.app.events.publish({
      seq: null,
      at: new Date().toISOString(),
      type: 'pool.warning',
      data: { venue: 'LIVE', product: 'KXP2', available: 1, message: 'low' },
    });
    const kept = await server.app.fleet.records.history({ afterSeq: before });
    await until(() => c.events.length >= kept.length + 1);
    c.es.close();
    const withSeq = c.events.filter((e) => e.seq !== null);
    expect(withSeq.map((e) => e.seq)).toEqual(kept.map((h) => h.seq));
    expect(withSeq.map((e) => e.type)).toEqual(kept.map((h) => h.type));
    expect(withSeq[0]!.data).toEqual(kept[0]!.data);
    expect(c.events.at(-1)).toMatchObject({ seq: null, type: 'pool.warning' });
    expect(c.named[0]).toEqual({ type: 'ready', data: { seq: before } });
  });

  it('catches up on reconnect: with ?after and with Last-Event-ID it gets exactly what it missed, then live', async () => {
    await enrollBoards(3);
    const seen = await server.app.fleet.records.lastSeq();
    await enrollBoards(7); // happens while the client is away
    const missed = await server.app.fleet.records.history({ afterSeq: seen });
    expect(missed.length).toBeGreaterThan(7);

    const c = connect(`?after=${seen}`);
    await until(() => c.named.some((n) => n.type === 'ready'));
    expect(c.events.map((e) => e.seq)).toEqual(missed.map((h) => h.seq));
    expect(c.named).toEqual([{ type: 'ready', data: { seq: missed.at(-1)!.seq } }]);
    await enrollBoards(1);
    await until(() => c.events.length > missed.length);
    expect(c.events[missed.length]!.seq).toBe(missed.at(-1)!.seq + 1);
    c.es.close();

    // The header a browser's EventSource sends on its own reconnects wins over the query.
    const res = await fetch(`${server.management}/api/v1/events?after=0`, {
      headers: { cookie: viewer.cookie!, 'last-event-id': String(seen) },
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: ready'))
      text += new TextDecoder().decode((await reader.read()).value as Uint8Array | undefined);
    await reader.cancel();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids[0]).toBe(seen + 1);
  });

  it('cuts off a client that does not read, with a reason, and its memory stays bounded', async () => {
    const { port } = new URL(server.management);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/api/v1/events', headers: { cookie: viewer.cookie! } },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    res.pause();
    const clients = async () => (await viewer.get<{ liveClients: number }>('/api/v1/system')).body.liveClients;
    expect(await clients()).toBe(1);

    // 20 MB of events offered to a client that reads nothing.
    const message = 'x'.repeat(10_000);
    for (let i = 0; i < 2000; i++) {
      server.app.events.publish({
        seq: null,
        at: new Date().toISOString(),
        type: 'pool.warning',
        data: { venue: 'LIVE', product: 'KXP2', available: i, message },
      });
    }
    expect(await clients()).toBe(0);

    // Reading now: the backlog is small (socket buffers plus at most MAX_BUFFERED), and ends with the reason.
    let received = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (received += chunk));
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    expect(received.length).toBeLessThan(16 * 1024 * 1024);
    expect(received).toMatch(/event: dropped\ndata: \{"reason":"too slow: [^"]+"\}\n\n$/);
  });

  it('ends the stream when the session ends (logout)', async () => {
    const me = await signedIn(server, 'leaving', 'viewer');
    const c = connect('', me.cookie);
    await until(() => c.named.some((n) => n.type === 'ready'));
    await me.post('/api/v1/auth/logout');
    await until(() => c.named.some((n) => n.type === 'dropped'));
    c.es.close();
    expect(c.named.find((n) => n.type === 'dropped')!.data).toEqual({ reason: expect.stringMatching(/sign in/i) });
  });
});
