import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus } from '../lib/event-bus.js';
import { createLogger } from '../lib/logger.js';
import type { FleetEvent } from '../protocol/events.js';
import { createLiveHub, STREAMS_PER_TURN } from './live-hub.js';

const log = createLogger('silent');
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A hub behind a real HTTP server on loopback; counts the writes each stream's response gets. */
async function liveServer(streams: number, flushMs?: number) {
  const events = createEventBus<FleetEvent>(log);
  const hub = createLiveHub({
    events,
    history: async () => [],
    headSeq: async () => 0,
    log,
    limits: { heartbeatMs: 60_000, ...(flushMs !== undefined && { flushMs }) },
  });
  const writes: number[] = [];
  const server = createServer((_req, res: ServerResponse) => {
    const i = writes.push(0) - 1;
    const write = res.write.bind(res) as (chunk: unknown) => boolean;
    res.write = ((chunk: unknown) => {
      writes[i]!++;
      return write(chunk);
    }) as ServerResponse['write'];
    hub.attach(res, undefined, async () => null).catch((err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const received: string[] = [];
  await Promise.all(
    Array.from(
      { length: streams },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          received.push('');
          const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              received[i] += d;
              if (received[i]!.includes('event: ready')) resolve();
            });
          });
          req.on('error', reject);
          req.end();
          cleanups.push(() => req.destroy());
        }),
    ),
  );
  cleanups.push(() => {
    hub.close();
    server.closeAllConnections();
    server.close();
  });
  return { events, writes, received };
}

const warning = (i: number): FleetEvent => ({
  seq: null,
  at: new Date().toISOString(),
  type: 'pool.warning',
  data: { venue: 'LIVE', product: 'KXP2', available: i, message: 'low' },
});

describe('live hub fan-out', () => {
  it('writes a burst of events to each stream as a few buffers, not one write per event, and loses none', async () => {
    const { events, writes, received } = await liveServer(20);
    const before = [...writes];
    for (let i = 0; i < 500; i++) events.publish(warning(i));
    const frames = (s: string) => s.split('"type":"pool.warning"').length - 1;
    const end = Date.now() + 10_000;
    while (received.some((r) => frames(r) < 500) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(received.map(frames)).toEqual(received.map(() => 500));
    // Events arrive in order, each whole.
    expect([...received[0]!.matchAll(/"available":(\d+)/g)].map((m) => Number(m[1]))).toEqual(
      Array.from({ length: 500 }, (_, i) => i),
    );
    const perStream = writes.map((w, i) => w - before[i]!);
    expect(Math.max(...perStream)).toBeLessThanOrEqual(5);
  });

  it('spreads a batch for many streams over turns of the event loop, so other requests get in between', async () => {
    const streams = 100;
    const { events, writes, received } = await liveServer(streams, 1);
    const total = () => writes.reduce((a, b) => a + b, 0);
    const before = total();
    events.publish(warning(7));
    // One probe per turn of the loop (an immediate queued from an immediate runs on the next turn):
    // what a request arriving during the fan-out would wait behind is the most written between two.
    const perTurn: number[] = [];
    await new Promise<void>((resolve) => {
      let last = total();
      const probe = () => {
        const now = total();
        if (now > last) perTurn.push(now - last);
        last = now;
        if (now - before < streams) setImmediate(probe);
        else resolve();
      };
      setImmediate(probe);
    });
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(STREAMS_PER_TURN);
    const end = Date.now() + 10_000;
    while (received.some((r) => !r.includes('"available":7')) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 10));
    expect(received.filter((r) => r.includes('"available":7'))).toHaveLength(streams);
  });
});
