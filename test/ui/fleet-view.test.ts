import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrollReply, ProgressReport } from '../../src/protocol/agent-api.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { jsonRequest } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { createFirstAdmin, launchBrowser, LAPTOP, type Browser } from './browser.js';

/**
 * Issue 16: the dashboard's fleet view. Three boards enroll over the device API and send real
 * progress reports; the dashboard sums their write rates, shows the server link's rate once a
 * chunk was served, and tells each board's source (server, or peers n of m chunks).
 */
const MB = 1_000_000;

let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = tempDir();
  const pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'fleet-ui' });
  server = await startServer();
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.pools.import({ venue: 'CORO', text: '1-20' });
  await images.import({ path: pi.path }, { product: 'KXP2', version: '2026.12.1', activate: true });
  browser = await launchBrowser();
  page = await browser.page(LAPTOP);
  await createFirstAdmin(page, server);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  dir?.remove();
});

async function enroll(serial: string): Promise<EnrollReply> {
  const r = await jsonRequest(server.device, 'POST', '/v1/enroll', {
    serial,
    macs: [],
    storageBytes: 64e9,
    venue: 'CORO',
    product: 'KXP2',
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as unknown as EnrollReply;
}

async function report(e: EnrollReply, rate: number, fleet: Partial<ProgressReport>): Promise<void> {
  const r = await jsonRequest(
    server.device,
    'POST',
    `/v1/deployments/${e.deploymentId}/progress`,
    {
      phase: 'writing',
      bytesWritten: 40 * MB,
      bytesDone: 20 * MB,
      bytesTotal: 100 * MB,
      rateBytesPerSec: rate,
      verifiedChunks: [],
      ...fleet,
    },
    { authorization: `Bearer ${e.token}` },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

const stats = (chunksWritten: number): ProgressReport['writeStats'] => ({
  mode: 'full',
  verify: 'full',
  chunksUsed: 25,
  chunksReadFirst: 0,
  chunksReused: 0,
  bytesReused: 0,
  chunksWritten,
  bytesWritten: chunksWritten * 4 * MB,
  bytesReadFirst: 0,
  bytesReadBack: 0,
  readFirstStops: 0,
});

describe('dashboard fleet view', () => {
  it("shows the aggregate write rate, the server link, the time left and each board's source", async () => {
    await page.goto(server.management);
    const [a, b, c] = [
      await enroll('10000000f1ee0001'),
      await enroll('10000000f1ee0002'),
      await enroll('10000000f1ee0003'),
    ];
    // A chunk the server really sends: the link's rate moves with it.
    const chunk = await fetch(`${server.device}/v1/deployments/${a.deploymentId}/chunks/0`, {
      headers: { authorization: `Bearer ${a.token}`, 'accept-encoding': 'identity' },
    });
    expect((await chunk.arrayBuffer()).byteLength).toBe(a.plan.manifest.chunks[0]!.sizeBytes);
    await report(a, 20 * MB, { chunksFromPeers: 0, writeStats: stats(10) });
    await report(b, 25 * MB, { chunksFromPeers: 3, writeStats: stats(5) });
    await report(c, 30 * MB, {});

    const fleet = page.getByRole('region', { name: 'Fleet' });
    await fleet.getByTestId('fleet-rate').getByText('75.0 MB/s', { exact: true }).waitFor();
    expect(await fleet.getByTestId('fleet-imaging').textContent()).toBe('3');
    // 3 × 80 MB left at 75 MB/s.
    expect(await fleet.getByTestId('fleet-eta').textContent()).toBe('3 s (240 MB to go)');
    // The link figure comes from the system status, polled while boards image; the chunk was served within 5 s.
    await expect
      .poll(async () => (await fleet.getByTestId('fleet-link').textContent()) ?? '', { timeout: 10_000 })
      .toMatch(/^\d+(\.\d+)? [kM]B\/s$/);

    const row = (serial: string) => page.locator(`li.board[data-serial="${serial}"]`);
    await row('10000000f1ee0001').getByText('from the server').waitFor();
    await row('10000000f1ee0002').getByText('from peers (3 of 5 chunks)').waitFor();
    expect(await row('10000000f1ee0003').locator('.board-source').count()).toBe(0);
  });
});
