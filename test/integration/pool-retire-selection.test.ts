import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn, type ManagementClient } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

/**
 * Issue 13: the venue page retires a selection of numbers (a range) in one action. The route does
 * it in one transaction: a number held by a board, or another venue's, refuses the whole set.
 */
let server: TestServer;
let op: ManagementClient;
let admin: ManagementClient;
let viewer: ManagementClient;

type Entry = { hostname: string; status: string };
const name = (venue: string, n: number) => `KXP2-${venue}-${String(n).padStart(3, '0')}`;
const names = (venue: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => name(venue, from + i));

beforeAll(async () => {
  server = await startServer();
  admin = await signedIn(server, 'root', 'admin');
  op = await signedIn(server, 'olga', 'operator');
  viewer = await signedIn(server, 'vera', 'viewer');
  for (const code of ['CORO', 'MIAM']) {
    expect((await op.post('/api/v1/venues', { code, name: code })).status).toBe(201);
    expect((await op.post(`/api/v1/venues/${code}/pool/import`, { text: '1-66' })).body).toMatchObject({ added: 66 });
  }
  await server.app.fleet.enrollment.enroll({ serial: '10000001', venue: 'CORO', product: 'KXP2' });
});
afterAll(() => server.stop());

async function statuses(venue: string): Promise<Map<string, string>> {
  const pool = await viewer.get<Entry[]>(`/api/v1/venues/${venue}/pool`);
  return new Map(pool.body.map((e) => [e.hostname, e.status]));
}

describe('POST /venues/:code/pool/retire', () => {
  it('refuses the whole set, changing nothing, when a board holds one number or one is elsewhere', async () => {
    const before = await statuses('CORO');
    expect(before.get(name('CORO', 1))).toBe('assigned');

    const held = await op.post('/api/v1/venues/CORO/pool/retire', { hostnames: names('CORO', 1, 10) });
    expect([held.status, held.body['code']]).toEqual([409, 'FLEET_HOSTNAME_ASSIGNED']);
    expect(held.body['error']).toContain('KXP2-CORO-001 (board 10000001)');
    expect(held.body['error']).toContain('nothing was retired');

    const foreign = await op.post('/api/v1/venues/CORO/pool/retire', {
      hostnames: [...names('CORO', 20, 22), name('MIAM', 5)],
    });
    expect([foreign.status, foreign.body['code']]).toEqual([404, 'FLEET_HOSTNAME_UNKNOWN']);
    expect(foreign.body['error']).toContain("KXP2-MIAM-005 is not in CORO's pool");

    const unknown = await op.post('/api/v1/venues/CORO/pool/retire', { hostnames: [name('CORO', 20), 'NOPE-1'] });
    expect(unknown.status).toBe(404);

    expect(await statuses('CORO')).toEqual(before);
    expect((await statuses('MIAM')).get(name('MIAM', 5))).toBe('available');
  });

  it('retires a range in one request, audited; a viewer may not, and bad bodies get 400', async () => {
    const range = names('CORO', 20, 40);
    const done = await op.post('/api/v1/venues/CORO/pool/retire', { hostnames: range });
    expect([done.status, done.body]).toEqual([200, { venue: 'CORO', retired: range, alreadyRetired: [] }]);
    const after = await statuses('CORO');
    expect(range.every((h) => after.get(h) === 'retired')).toBe(true);
    expect([...after.values()].filter((s) => s === 'retired')).toHaveLength(range.length);

    const again = await op.post('/api/v1/venues/CORO/pool/retire', { hostnames: [name('CORO', 40), name('CORO', 41)] });
    expect(again.body).toEqual({ venue: 'CORO', retired: [name('CORO', 41)], alreadyRetired: [name('CORO', 40)] });

    expect((await viewer.post('/api/v1/venues/CORO/pool/retire', { hostnames: [name('CORO', 50)] })).status).toBe(403);
    for (const body of [{}, { hostnames: [] }, { hostnames: 'KXP2-CORO-050' }, { hostnames: [''] }])
      expect((await op.post('/api/v1/venues/CORO/pool/retire', body)).status).toBe(400);
    expect((await op.post('/api/v1/venues/ZZZZ/pool/retire', { hostnames: [name('CORO', 50)] })).status).toBe(404);
    expect((await statuses('CORO')).get(name('CORO', 50))).toBe('available');

    const audit =
      await admin.get<{ action: string; target: string | null; details: { body?: unknown } }[]>(
        '/api/v1/audit?limit=1000',
      );
    const retires = audit.body.filter((a) => a.action === 'pool.retire' && a.target === 'CORO');
    expect(retires.map((a) => a.details.body)).toEqual(
      expect.arrayContaining([{ hostnames: range }, { hostnames: [name('CORO', 40), name('CORO', 41)] }]),
    );
  });
});
