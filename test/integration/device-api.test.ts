import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { rawDisk, sha256File } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  // The seed's config answer always names an image: without an active one it is a 404.
  const file = join(server.dataDir, 'kxp2.img');
  writeFileSync(file, rawDisk('kxp2', 4608));
  await server.app.images.import({ path: file }, { product: 'KXP2', version: '2026.11.0', activate: true });
});
afterAll(() => server.stop());

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const res = await fetch(`${server.device}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const config = (serial: string, venue = 'CORO', product = 'KXP2', extra: object = {}) =>
  post('/api/config', { product_type: product, venue_code: venue, serial_number: serial, ...extra });

async function rowCounts() {
  const db = server.app.store.db;
  const count = async (t: 'devices' | 'deployments' | 'assignments' | 'venues') =>
    Number(
      (
        await db
          .selectFrom(t)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    devices: await count('devices'),
    deployments: await count('deployments'),
    assignments: await count('assignments'),
    venues: await count('venues'),
  };
}

describe('POST /api/config (seed contract)', () => {
  beforeEach(async () => {
    const { fleet } = server.app;
    for (const v of await fleet.venues.list()) await fleet.venues.remove(v.code, { force: true });
    await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  });

  it('assigns a hostname and answers in the seed’s field names', async () => {
    await server.app.fleet.pools.import({ venue: 'CORO', text: '1-3' });
    const r = await config('ABCD0001', 'coro', 'kxp2', { mac_address: '2C:CF:67:AA:BB:CC' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      hostname: 'KXP2-CORO-001',
      product_type: 'KXP2',
      venue_code: 'CORO',
      serial_number: 'abcd0001',
      mac_address: '2c:cf:67:aa:bb:cc',
      reused_hostname: false,
      image_filename: 'KXP2-2026.11.0.img',
      image_size: 4608,
      version: '3.0',
    });
    expect(typeof r.body['deployment_id']).toBe('number');
    const again = await config('abcd0001');
    expect([again.status, again.body['hostname'], again.body['reused_hostname']]).toEqual([200, 'KXP2-CORO-001', true]);
  });

  it('points the board at the active image of its product, and names RXP2 boards from their serial without a pool', async () => {
    const file = join(server.dataDir, 'tiny.img');
    writeFileSync(file, rawDisk('tiny', 1234));
    const image = await server.app.images.import(
      { path: file },
      { product: 'RXP2', version: '2026.11.1', activate: true },
    );
    const r = await config('10000000c0ffee43', 'CORO', 'RXP2');
    expect(r.body).toMatchObject({
      hostname: 'RXP2-CORO-C0FFEE43',
      image_filename: 'RXP2-2026.11.1.img',
      image_checksum: sha256File(file),
      image_size: 1234,
      image_version: '2026.11.1',
    });
    expect(r.body['image_url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/images\/RXP2-2026\.11\.1\.img$/);
    await server.app.images.remove(image.id, { force: true });
  });

  it.each([
    [
      'a missing field',
      { product_type: 'KXP2', venue_code: 'CORO' },
      400,
      'REQUEST_INVALID',
      'serial_number is required',
    ],
    [
      'a number for the serial',
      { product_type: 'KXP2', venue_code: 'CORO', serial_number: 12345678 },
      400,
      'REQUEST_INVALID',
      'serial_number must be string',
    ],
    [
      'an array for the venue',
      { product_type: 'KXP2', venue_code: ['CORO'], serial_number: 'abcd0009' },
      400,
      'REQUEST_INVALID',
      'venue_code',
    ],
    [
      'a 3-character venue',
      { product_type: 'KXP2', venue_code: 'COR', serial_number: 'abcd0009' },
      400,
      'FLEET_VENUE_CODE_INVALID',
      'exactly 4 characters',
    ],
    [
      'a 5-character venue',
      { product_type: 'KXP2', venue_code: 'CORON', serial_number: 'abcd0009' },
      400,
      'FLEET_VENUE_CODE_INVALID',
      'exactly 4 characters',
    ],
    [
      'an SQL-ish venue',
      { product_type: 'KXP2', venue_code: "C'--", serial_number: 'abcd0009' },
      400,
      'FLEET_VENUE_CODE_INVALID',
      'Venue code',
    ],
    [
      'an SQL-ish serial',
      { product_type: 'KXP2', venue_code: 'CORO', serial_number: "1' OR '1'='1" },
      400,
      'FLEET_SERIAL_INVALID',
      '8–16 hex digits',
    ],
    [
      'a Unicode serial',
      { product_type: 'KXP2', venue_code: 'CORO', serial_number: 'ａｂｃｄ０００９' },
      400,
      'FLEET_SERIAL_INVALID',
      'Serial number',
    ],
    [
      'an unknown product',
      { product_type: 'ZZZ9', venue_code: 'CORO', serial_number: 'abcd0009' },
      400,
      'FLEET_PRODUCT_UNKNOWN',
      'ZZZ9',
    ],
    [
      'a bad MAC',
      { product_type: 'KXP2', venue_code: 'CORO', serial_number: 'abcd0009', mac_address: 'nope' },
      400,
      'FLEET_MAC_INVALID',
      'MAC',
    ],
    [
      'an unknown venue',
      { product_type: 'KXP2', venue_code: 'NOPE', serial_number: 'abcd0009' },
      404,
      'FLEET_VENUE_UNKNOWN',
      'venue add NOPE',
    ],
    [
      'an empty pool',
      { product_type: 'KXP2', venue_code: 'CORO', serial_number: 'abcd0009' },
      409,
      'FLEET_POOL_EXHAUSTED',
      'pool import CORO',
    ],
  ])('answers %s with %i and a message, writing nothing', async (_case, body, status, code, message) => {
    const before = await rowCounts();
    const r = await post('/api/config', body);
    expect(r.status).toBe(status);
    expect(r.body['code']).toBe(code);
    expect(String(r.body['error'])).toContain(message);
    expect(await rowCounts()).toEqual(before);
  });

  it.each([
    [
      'a body over 64 KiB',
      JSON.stringify({ product_type: 'KXP2', venue_code: 'CORO', serial_number: 'abcd0009', pad: 'x'.repeat(70_000) }),
      'application/json',
      413,
    ],
    ['broken JSON', '{"product_type": "KXP2",', 'application/json', 400],
    ['an empty body', '', 'application/json', 400],
    ['a form post', 'product_type=KXP2', 'application/x-www-form-urlencoded', 415],
    ['a JSON array', '[1,2,3]', 'application/json', 400],
  ])('refuses %s with %i in the common error shape', async (_case, body, type, status) => {
    const before = await rowCounts();
    const r = await post('/api/config', body, { 'content-type': type });
    expect(r.status).toBe(status);
    expect(typeof r.body['error']).toBe('string');
    expect(typeof r.body['code']).toBe('string');
    expect(await rowCounts()).toEqual(before);
  });

  it('gives 500 concurrent boards exactly the 60 numbers of the pool, once each', async () => {
    await server.app.fleet.pools.import({ venue: 'CORO', text: '1-60' });
    const serials = Array.from({ length: 500 }, (_, i) => (0x50000000 + i).toString(16));
    const replies = await Promise.all(serials.map((s) => config(s)));
    const byStatus = (s: number) => replies.filter((r) => r.status === s);
    expect(byStatus(200)).toHaveLength(60);
    expect(byStatus(409)).toHaveLength(440);
    expect(replies.filter((r) => r.status !== 200 && r.status !== 409)).toEqual([]);
    for (const r of byStatus(409))
      expect(r.body).toMatchObject({
        code: 'FLEET_POOL_EXHAUSTED',
        error: expect.stringContaining('no free KXP2 numbers'),
      });
    const names = byStatus(200).map((r) => r.body['hostname'] as string);
    expect(new Set(names).size).toBe(60);
    expect(names.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `KXP2-CORO-${String(i + 1).padStart(3, '0')}`));

    // A board that already holds a name gets it back, even with the pool empty.
    const winner = byStatus(200)[17]!;
    const again = await config(winner.body['serial_number'] as string);
    expect([again.status, again.body['hostname']]).toEqual([200, winner.body['hostname']]);
    expect(await server.app.fleet.pools.stats({ venue: 'CORO' })).toEqual([
      { venue: 'CORO', product: 'KXP2', available: 0, assigned: 60, retired: 0, total: 60 },
    ]);
  });
});

describe('GET /health', () => {
  it('reports version and database state on both listeners', async () => {
    for (const base of [server.device, server.management]) {
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'healthy',
        timestamp: expect.any(String),
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        database: {
          ok: true,
          schema_version: MIGRATIONS.map((m) => m.id)
            .sort()
            .at(-1),
        },
      });
    }
  });
});

describe('listener separation', () => {
  it('does not answer device routes on the management listener', async () => {
    const res = await fetch(`${server.management}/api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(404);
  });
});
