import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrollReply } from '../../src/protocol/agent-api.js';
import type { FleetEvent } from '../../src/protocol/events.js';
import { signedIn, type ManagementClient } from '../helpers/management-client.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { jsonRequest } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The dashboard's fleet view reads a board's source from the live `deployment.progress` event. */
let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let viewer: ManagementClient;

beforeAll(async () => {
  dir = tempDir();
  const pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'fv' });
  server = await startServer();
  viewer = await signedIn(server, 'vera', 'viewer');
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'FLVW', name: 'Fleet view' });
  await fleet.pools.import({ venue: 'FLVW', text: '1-20' });
  await images.import({ path: pi.path }, { product: 'KXP2', version: '2026.12.1', activate: true });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

async function until(what: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('chunksFromPeers on the live stream', () => {
  it('a progress report over the device API reaches the deployment.progress event with its chunksFromPeers', async () => {
    const events: FleetEvent[] = [];
    let ready = false;
    const es = new EventSource(`${server.management}/api/v1/events`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie: viewer.cookie! } }),
    });
    es.onmessage = (e) => events.push(JSON.parse(e.data as string) as FleetEvent);
    es.addEventListener('ready', () => (ready = true));
    try {
      await until(() => ready);
      const enrolled = await jsonRequest(server.device, 'POST', '/v1/enroll', {
        serial: '10000000fe11f001',
        macs: ['2c:cf:67:00:fe:01'],
        storageBytes: 64e9,
        venue: 'FLVW',
        product: 'KXP2',
      });
      expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
      const { deploymentId, token } = enrolled.body as unknown as EnrollReply;
      const report = (chunksFromPeers?: number) =>
        jsonRequest(
          server.device,
          'POST',
          `/v1/deployments/${deploymentId}/progress`,
          {
            phase: 'writing',
            bytesWritten: 8 << 20,
            bytesDone: 0,
            bytesTotal: 64 << 20,
            rateBytesPerSec: 4 << 20,
            verifiedChunks: [],
            ...(chunksFromPeers !== undefined && { chunksFromPeers }),
          },
          { authorization: `Bearer ${token}` },
        );
      expect((await report(3)).status).toBe(200);
      expect((await report()).status).toBe(200);
      const progress = () =>
        events.filter((e): e is FleetEvent<'deployment.progress'> => e.type === 'deployment.progress');
      await until(() => progress().length >= 2);
      expect(progress()[0]!.data).toMatchObject({ deploymentId, chunksFromPeers: 3, rateBytesPerSec: 4 << 20 });
      // An agent that does not send it (older, or fleet mode off) leaves it out.
      expect(progress()[1]!.data).not.toHaveProperty('chunksFromPeers');

      const bad = await report(-1);
      expect(bad.status).toBe(400);
    } finally {
      es.close();
    }
  });
});
