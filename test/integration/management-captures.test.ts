import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capture } from '../../src/protocol/capture.js';
import { signedIn, type ManagementClient } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

/** Capture requests through the management API: made by operators, read by viewers, cancelled, audited. */
let server: TestServer;
let op: ManagementClient;
let viewer: ManagementClient;
let admin: ManagementClient;

beforeAll(async () => {
  server = await startServer();
  admin = await signedIn(server, 'ada', 'admin');
  op = await signedIn(server, 'olga', 'operator');
  viewer = await signedIn(server, 'vera', 'viewer');
});
afterAll(() => server?.stop());

describe('captures', () => {
  it('marks a board, lists it, refuses a second open one and bad input, cancels it; changes are audited', async () => {
    const made = await op.post<Capture>('/api/v1/captures', {
      serial: '0xCAFE0001',
      product: 'kxp2',
      version: '1.1.0',
      notes: 'golden',
      keep: ['logs'],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ serial: 'cafe0001', product: 'KXP2', status: 'pending', keep: ['logs'] });

    expect((await viewer.post('/api/v1/captures', { serial: 'cafe0002', product: 'KXP2', version: '2' })).status).toBe(
      403,
    );
    const again = await op.post('/api/v1/captures', { serial: 'cafe0001', product: 'KXP2', version: '1.2.0' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'IMAGE_CAPTURE_OPEN' });
    const unknownStep = await op.post('/api/v1/captures', {
      serial: 'cafe0003',
      product: 'KXP2',
      version: '1.2.0',
      keep: ['everything'],
    });
    expect(unknownStep.status).toBe(400);
    const badSerial = await op.post('/api/v1/captures', { serial: 'golden', product: 'KXP2', version: '1.2.0' });
    expect(badSerial.status).toBe(400);

    const listed = await viewer.get<Capture[]>('/api/v1/captures?status=pending');
    expect(listed.body.map((c) => c.id)).toEqual([made.body.id]);

    const cancelled = await op.post<Capture>(`/api/v1/captures/${made.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    const twice = await op.post(`/api/v1/captures/${made.body.id}/cancel`);
    expect(twice.body).toMatchObject({ code: 'IMAGE_CAPTURE_STATE' });
    expect((await viewer.get(`/api/v1/captures/${made.body.id}`)).body).toMatchObject({ status: 'cancelled' });

    const audit = await admin.get<{ action: string; target: string | null }[]>('/api/v1/audit?limit=100');
    expect(audit.body.filter((a) => a.action.startsWith('image.capture')).map((a) => [a.action, a.target])).toEqual([
      ['image.capture-cancel', String(made.body.id)],
      ['image.capture', String(made.body.id)],
    ]);
  });
});
