import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagementClient } from '../helpers/management-client.js';
import { signedIn } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

let server: TestServer;
let op: ManagementClient;
let admin: ManagementClient;
let viewer: ManagementClient;

beforeAll(async () => {
  server = await startServer();
  admin = await signedIn(server, 'root', 'admin');
  op = await signedIn(server, 'olga', 'operator');
  viewer = await signedIn(server, 'vera', 'viewer');
});
afterAll(() => server.stop());

type Json = Record<string, unknown>;

async function auditActions(): Promise<string[]> {
  return (
    await admin.get<{ action: string; actor: string; target: string | null }[]>('/api/v1/audit?limit=1000')
  ).body.map((a) => `${a.actor} ${a.action} ${a.target ?? ''}`.trim());
}

describe('venues and products', () => {
  it('create, read, update, stats and delete a venue; each change is audited', async () => {
    const created = await op.post('/api/v1/venues', { code: 'coro', name: 'Corona Karting', location: 'California' });
    expect([created.status, created.body['code'], created.body['name']]).toEqual([201, 'CORO', 'Corona Karting']);
    expect((await viewer.get<Json[]>('/api/v1/venues')).body.map((v) => v['code'])).toContain('CORO');
    expect((await viewer.get('/api/v1/venues/coro')).body['location']).toBe('California');
    expect((await op.patch('/api/v1/venues/CORO', { contact: 'Ana' })).body['contact']).toBe('Ana');
    expect((await viewer.get('/api/v1/venues/CORO/stats')).body).toMatchObject({ venue: 'CORO', activeAssignments: 0 });
    expect((await op.post('/api/v1/venues', { code: 'TEMP', name: 'Temporary' })).status).toBe(201);
    expect((await op.delete('/api/v1/venues/TEMP')).body).toEqual({ releasedHostnames: [] });
    expect((await viewer.get('/api/v1/venues/TEMP')).status).toBe(404);
    expect(await auditActions()).toEqual(
      expect.arrayContaining([
        'olga venue.create CORO',
        'olga venue.update CORO',
        'olga venue.create TEMP',
        'olga venue.delete TEMP',
      ]),
    );
  });

  it('answer hostile or wrong input with 400/404/409 and a message', async () => {
    const cases: [string, Promise<{ status: number; body: Json }>, number, string][] = [
      ['bad code', op.post('/api/v1/venues', { code: 'TOO-LONG', name: 'x' }), 400, 'FLEET_VENUE_CODE_INVALID'],
      ['extra field', op.post('/api/v1/venues', { code: 'ABCD', name: 'x', admin: true }), 400, 'REQUEST_INVALID'],
      ['wrong type', op.post('/api/v1/venues', { code: 1234, name: 'x' }), 400, 'REQUEST_INVALID'],
      ['missing field', op.post('/api/v1/venues', { code: 'ABCD' }), 400, 'REQUEST_INVALID'],
      [
        'not JSON',
        op.request('POST', '/api/v1/venues', { body: '{"code": ', headers: { 'content-type': 'application/json' } }),
        400,
        'FST_ERR_CTP_INVALID_JSON_BODY',
      ],
      [
        'script in name is just text',
        op.post('/api/v1/venues', { code: 'XSS1', name: '<script>alert(1)</script>' }),
        201,
        '',
      ],
      ['duplicate', op.post('/api/v1/venues', { code: 'CORO', name: 'again' }), 409, 'FLEET_VENUE_EXISTS'],
      ['unknown venue', viewer.get('/api/v1/venues/NOPE'), 404, 'FLEET_VENUE_UNKNOWN'],
      ['path traversal as code', viewer.get('/api/v1/venues/..%2F..%2Fetc'), 400, 'FLEET_VENUE_CODE_INVALID'],
      [
        'huge body',
        op.post('/api/v1/venues', { code: 'HUGE', name: 'x'.repeat(3 * 1024 * 1024) }),
        413,
        'FST_ERR_CTP_BODY_TOO_LARGE',
      ],
      [
        'bad product pattern',
        op.post('/api/v1/products', { code: 'ZZZ9', name: 'z', hostnamePattern: 'no placeholders' }),
        400,
        'FLEET_PATTERN_INVALID',
      ],
      ['negative offset', viewer.get('/api/v1/deployments?offset=-1'), 400, 'REQUEST_INVALID'],
      ['unknown status', viewer.get('/api/v1/deployments?status=exploded'), 400, 'REQUEST_INVALID'],
      ['unknown query key', viewer.get('/api/v1/deployments?drop=table'), 400, 'REQUEST_INVALID'],
      ['id not a number', viewer.get('/api/v1/batches/abc'), 400, 'REQUEST_INVALID'],
      ['bad date', viewer.get('/api/v1/deployments?since=yesterday'), 400, 'FLEET_INPUT_INVALID'],
    ];
    for (const [name, pending, status, code] of cases) {
      const r = await pending;
      expect([name, r.status, r.status >= 400 ? r.body['code'] : '']).toEqual([name, status, code]);
      if (r.status >= 400) expect(typeof r.body['error']).toBe('string');
    }
  });

  it('products: list, create, delete', async () => {
    const created = await op.post('/api/v1/products', {
      code: 'CAM1',
      name: 'Camera',
      hostnamePattern: 'CAM1-{venue}-{number:3}',
    });
    expect([created.status, created.body['naming']]).toEqual([201, 'pool']);
    expect((await viewer.get<Json[]>('/api/v1/products')).body.map((p) => p['code'])).toEqual(
      expect.arrayContaining(['KXP2', 'RXP2', 'CAM1']),
    );
    expect((await op.delete('/api/v1/products/CAM1')).status).toBe(204);
    expect((await op.delete('/api/v1/products/CAM1')).status).toBe(404);
  });

  it('products: imaging settings default to delta on and full verify, and change with PATCH', async () => {
    const kxp2 = async () => (await viewer.get<Json[]>('/api/v1/products')).body.find((p) => p['code'] === 'KXP2')!;
    expect((await kxp2())['imaging']).toEqual({ delta: true, verify: 'full' });
    const patched = await op.patch('/api/v1/products/KXP2', { imaging: { verify: 'sample' } });
    expect([patched.status, patched.body['imaging']]).toEqual([200, { delta: true, verify: 'sample' }]);
    expect((await op.patch('/api/v1/products/KXP2', { imaging: { delta: false } })).body['imaging']).toEqual({
      delta: false,
      verify: 'sample',
    });
    expect((await kxp2())['imaging']).toEqual({ delta: false, verify: 'sample' });
    expect((await op.patch('/api/v1/products/KXP2', { imaging: { verify: 'some' } })).status).toBe(400);
    expect((await viewer.patch('/api/v1/products/KXP2', { imaging: { delta: true } })).status).toBe(403);
    expect((await op.patch('/api/v1/products/NOPE', { imaging: { delta: true } })).status).toBe(404);
    await op.patch('/api/v1/products/KXP2', { imaging: { delta: true, verify: 'full' } });
  });
});

describe('pools', () => {
  it('preview an import (nothing written), import, list, stats, release, retire', async () => {
    const preview = await op.post('/api/v1/venues/CORO/pool/import', { text: '1-3\n2\nabc', dryRun: true });
    expect(preview.body).toMatchObject({ added: 3, duplicates: 1, invalid: 1 });
    expect((await viewer.get<Json[]>('/api/v1/venues/CORO/pool')).body).toEqual([]);

    const real = await op.post('/api/v1/venues/CORO/pool/import', { text: 'kart_number\n1\n2\n3\n4' });
    expect(real.body).toMatchObject({ venue: 'CORO', product: 'KXP2', added: 4 });
    expect((await viewer.get<Json[]>('/api/v1/venues/CORO/pool?status=available')).body).toHaveLength(4);
    expect((await viewer.get<Json[]>('/api/v1/pool/stats?venue=CORO')).body).toEqual([
      { venue: 'CORO', product: 'KXP2', available: 4, assigned: 0, retired: 0, total: 4 },
    ]);

    await server.app.fleet.enrollment.enroll({ serial: '10000001', venue: 'CORO', product: 'KXP2' });
    const held = await op.post('/api/v1/pool/KXP2-CORO-001/retire');
    expect([held.status, held.body['code']]).toEqual([409, 'FLEET_HOSTNAME_ASSIGNED']);
    expect((await op.post('/api/v1/pool/KXP2-CORO-001/release')).body).toEqual({
      hostname: 'KXP2-CORO-001',
      releasedFrom: '10000001',
    });
    expect((await op.post('/api/v1/pool/KXP2-CORO-004/retire?force=true')).body).toEqual({
      hostname: 'KXP2-CORO-004',
      releasedFrom: null,
    });
    expect((await op.post('/api/v1/pool/NOPE-0001/release')).status).toBe(404);
    expect(await auditActions()).toEqual(
      expect.arrayContaining([
        'olga pool.import CORO',
        'olga pool.release KXP2-CORO-001',
        'olga pool.retire KXP2-CORO-004',
      ]),
    );
  });
});

describe('batches, deployments, devices', () => {
  it('create and move a batch through its states', async () => {
    const b = await op.post<Json>('/api/v1/batches', {
      venue: 'CORO',
      product: 'KXP2',
      expectedCount: 3,
      name: 'Morning',
    });
    expect([b.status, b.body['status']]).toEqual([201, 'pending']);
    const id = b.body['id'] as number;
    expect((await op.post(`/api/v1/batches/${id}/activate`)).body['status']).toBe('active');
    expect((await op.post(`/api/v1/batches/${id}/pause`)).body['status']).toBe('paused');
    expect((await op.post(`/api/v1/batches/${id}/pause`)).status).toBe(409);
    expect((await viewer.get(`/api/v1/batches/${id}`)).body['name']).toBe('Morning');
    expect((await viewer.get<Json[]>('/api/v1/batches?venue=CORO&status=paused')).body.map((x) => x['id'])).toEqual([
      id,
    ]);
    expect((await op.post(`/api/v1/batches/${id}/cancel`)).body['status']).toBe('cancelled');
    expect((await viewer.get('/api/v1/batches/99999')).status).toBe(404);
    expect(await auditActions()).toEqual(
      expect.arrayContaining([`olga batch.create ${id}`, `olga batch.activate ${id}`, `olga batch.cancel ${id}`]),
    );
  });

  it('pages deployments, filters them and exports them as CSV', async () => {
    const { fleet } = server.app;
    await fleet.pools.import({ venue: 'CORO', text: '10-30' });
    for (let i = 0; i < 12; i++)
      await fleet.enrollment.enroll({
        serial: `2000${String(i).padStart(4, '0')}`,
        venue: 'CORO',
        product: 'KXP2',
        ip: `198.18.0.${i + 10}`,
      });
    const failed = (await fleet.records.deployments({ serial: '20000003' }))[0]!;
    await fleet.enrollment.advance(failed.id, 'failed', { error: 'card, "write" error' });

    const first = await viewer.get<{ items: Json[]; hasMore: boolean; offset: number; limit: number }>(
      '/api/v1/deployments?venue=CORO&limit=5',
    );
    expect([first.body.items.length, first.body.hasMore, first.body.limit]).toEqual([5, true, 5]);
    const last = await viewer.get<{ items: Json[]; hasMore: boolean }>(
      '/api/v1/deployments?venue=CORO&limit=5&offset=10',
    );
    expect(last.body.hasMore).toBe(false);
    expect(new Set([...first.body.items, ...last.body.items].map((d) => d['id'])).size).toBe(
      first.body.items.length + last.body.items.length,
    );
    const onlyFailed = await viewer.get<{ items: Json[] }>('/api/v1/deployments?status=failed');
    expect(onlyFailed.body.items.map((d) => d['serial'])).toEqual(['20000003']);
    const today = new Date().toISOString().slice(0, 10);
    expect(
      (await viewer.get<{ items: Json[] }>(`/api/v1/deployments?since=${today}&serial=20000005`)).body.items,
    ).toHaveLength(1);

    const csv = await viewer.get('/api/v1/deployments?venue=CORO&format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(
      /^attachment; filename="deployments-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,hostname,serial,venue,product,batch,status,enrolled,finished,ip,error');
    expect(lines).toHaveLength(1 + 13);
    const failedLine = lines.find((l) => l.includes('20000003'))!;
    expect(failedLine).toContain(',failed,');
    expect(failedLine.endsWith(',198.18.0.13,"card, ""write"" error"')).toBe(true);
    const byAccept = await viewer.get('/api/v1/deployments?status=failed', { headers: { accept: 'text/csv' } });
    expect(byAccept.text.trimEnd().split('\r\n')).toHaveLength(2);

    const one = await viewer.get<{ deployment: Json; history: Json[] }>(`/api/v1/deployments/${failed.id}`);
    expect(one.body.deployment['status']).toBe('failed');
    expect(one.body.history.map((h) => h['type'])).toContain('deployment.phase');
    expect((await viewer.get('/api/v1/deployments/99999')).status).toBe(404);
  });

  it('lists boards, shows one with its deployments, and re-images one', async () => {
    const list = await viewer.get<Json[]>('/api/v1/devices?limit=5');
    expect(list.body).toHaveLength(5);
    const one = await viewer.get<{ device: Json; deployments: Json[] }>('/api/v1/devices/20000003');
    expect([one.body.device['serial'], one.body.deployments.length]).toEqual(['20000003', 1]);
    expect((await viewer.get('/api/v1/devices/zz')).status).toBe(400);
    expect((await viewer.get('/api/v1/devices/30000000')).status).toBe(404);
    const r = await op.post('/api/v1/devices/20000003/reimage');
    expect(r.body['reimageRequestedAt']).toEqual(expect.any(String));
    expect((await viewer.post('/api/v1/devices/20000003/reimage')).status).toBe(403);
    expect(await auditActions()).toContain('olga device.reimage 20000003');
  });
});

describe('audit and system', () => {
  it('audit pages back with before, redacts secrets, and is for admins only', async () => {
    await admin.post('/api/v1/users', { username: 'newbie', password: 'super secret words', role: 'viewer' });
    const page = await admin.get<{ id: number; action: string; details: Json }[]>('/api/v1/audit?limit=3');
    expect(page.body).toHaveLength(3);
    const older = await admin.get<{ id: number }[]>(`/api/v1/audit?limit=3&before=${page.body[2]!.id}`);
    expect(older.body.every((e) => e.id < page.body[2]!.id)).toBe(true);
    const all = await admin.get('/api/v1/audit?limit=1000');
    expect(all.text).not.toContain('super secret words');
    expect(all.text).toContain('[redacted]');
    expect((await op.get('/api/v1/audit')).status).toBe(403);
  });

  it('system status for any role', async () => {
    const s = await viewer.get<Json>('/api/v1/system');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      version: expect.any(String),
      listeners: { device: server.device, management: server.management },
      dhcp: { enabled: false },
      disk: { path: server.dataDir, low: false },
      database: { ok: true },
    });
    expect((s.body['disk'] as Json)['freeBytes']).toBeGreaterThan(0);
  });
});
