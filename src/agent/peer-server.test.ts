import { afterEach, describe, expect, it } from 'vitest';
import { PeerCache, startPeerServer, type PeerServer } from './peer-server.js';

const sha = (c: string) => c.repeat(64);

describe('PeerCache', () => {
  it('hands a chunk that arrives while a request waits, and keeps its own copy', async () => {
    const cache = new PeerCache(1000);
    const waiting = cache.get(sha('a'), 2000);
    const body = Buffer.from('stored bytes');
    cache.put(sha('a'), body);
    body.fill(0);
    expect((await waiting)?.toString()).toBe('stored bytes');
  });

  it('drops the oldest chunks past its bound and answers for them at once', async () => {
    const cache = new PeerCache(10);
    cache.put(sha('a'), Buffer.alloc(6));
    cache.put(sha('b'), Buffer.alloc(6));
    const t0 = performance.now();
    expect(await cache.get(sha('a'), 5000)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((await cache.get(sha('b'), 0))?.length).toBe(6);
  });

  it('gives up after the wait, and at once after close', async () => {
    const cache = new PeerCache(100);
    expect(await cache.get(sha('c'), 50)).toBeUndefined();
    const waiting = cache.get(sha('d'), 60_000);
    cache.close();
    expect(await waiting).toBeUndefined();
  });
});

describe('the peer server', () => {
  let server: PeerServer | undefined;
  afterEach(async () => server?.close());

  it("serves stored chunks as zstd to its swarm's token only", async () => {
    const cache = new PeerCache(1000);
    server = await startPeerServer({ host: '127.0.0.1', cache, waitMs: 100 });
    const url = `http://127.0.0.1:${server.port}/v1/peer/chunks/${sha('e')}`;
    cache.put(sha('e'), Buffer.from('zstd body'));
    // No token from the tracker yet: nobody is served.
    expect((await fetch(url, { headers: { authorization: 'Bearer x' } })).status).toBe(401);
    server.setToken('t'.repeat(43));
    expect((await fetch(url, { headers: { authorization: `Bearer ${'u'.repeat(43)}` } })).status).toBe(401);
    const auth = { authorization: `Bearer ${'t'.repeat(43)}` };
    const res = await fetch(url, { headers: { ...auth, 'accept-encoding': 'identity' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('zstd');
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('zstd body');
    const absent = await fetch(`http://127.0.0.1:${server.port}/v1/peer/chunks/${sha('f')}`, { headers: auth });
    expect(absent.status).toBe(404);
    expect(await absent.json()).toMatchObject({ code: 'PEER_CHUNK_ABSENT' });
    expect(server.served()).toBe(1);
  });
});
