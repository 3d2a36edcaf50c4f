import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemStatus } from '../../src/protocol/management-api.js';
import { signedIn } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

/** The preflight checks run at start and show on GET /api/v1/system, which the system page reads. */

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

describe('doctor in the running server', () => {
  it('reports its checks on GET /api/v1/system, ports counted as its own', async () => {
    const viewer = await signedIn(server, 'viewer1', 'viewer');
    const { status, body } = await viewer.get<SystemStatus>('/api/v1/system');
    expect(status).toBe(200);
    const checks = Object.fromEntries((body.doctor?.checks ?? []).map((c) => [c.id, c]));
    expect(checks['ports']).toEqual({
      id: 'ports',
      status: 'pass',
      summary: 'ports 67/69 and both listeners are held by this server',
    });
    expect(checks['interface']?.status).toBe('warn');
    // A fresh data dir has no netboot build: the report says so, and what to run.
    expect(checks['netboot-files']).toMatchObject({ status: 'fail', fix: 'run: rpi-deploy netboot build' });
    expect(body.doctor?.status).toBe('fail');
  });
});
