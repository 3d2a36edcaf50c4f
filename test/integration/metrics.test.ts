import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrollReply } from '../../src/protocol/agent-api.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { signedIn } from '../helpers/management-client.js';
import { parseExposition } from '../helpers/prometheus.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

/**
 * GET /metrics on the management listener, scraped over real HTTP after real board traffic on the
 * device listener: each counter moves by exactly what was sent. TFTP is counted in
 * test/netns/tftp-clients.test.ts, where a real TFTP server runs.
 */

const TOKEN = 'scraper-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ flags: { 'management.metrics.token': TOKEN } });
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.pools.import({ venue: 'CORO', text: '1-20' });
  const pi = buildPiImage(server.dataDir, { variant: 'cloud-init', seed: 'metrics' });
  await images.import({ path: pi.path }, { product: 'KXP2', version: '1', activate: true });
}, 60_000);
afterAll(() => server.stop());

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${server.management}/metrics`, { headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.device}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('GET /metrics', () => {
  it('counts an enroll, a chunk download, a seed config and image download, and a failed result', async () => {
    const before = await scrape();
    const moved = (after: Map<string, number>, key: string) => (after.get(key) ?? NaN) - (before.get(key) ?? 0);

    const enrolled = await post('/v1/enroll', {
      serial: '5e000001',
      macs: [],
      storageBytes: 64e9,
      venue: 'CORO',
      product: 'KXP2',
    });
    expect(enrolled.status, await enrolled.clone().text()).toBe(200);
    const e = (await enrolled.json()) as EnrollReply;
    const chunk = e.plan.manifest.chunks[0]!;
    const bearer = { authorization: `Bearer ${e.token}` };
    const zstd = await fetch(`${server.device}/v1/deployments/${e.deploymentId}/chunks/0`, {
      headers: { ...bearer, 'accept-encoding': 'zstd' },
    });
    expect((await zstd.arrayBuffer()).byteLength).toBe(chunk.storedBytes);
    const raw = await fetch(`${server.device}/v1/deployments/${e.deploymentId}/chunks/0`, {
      headers: { ...bearer, 'accept-encoding': 'identity' },
    });
    expect((await raw.arrayBuffer()).byteLength).toBe(chunk.sizeBytes);
    const range = await fetch(`${server.device}/v1/deployments/${e.deploymentId}/chunks/0`, {
      headers: { ...bearer, 'accept-encoding': 'zstd', range: 'bytes=0-99' },
    });
    expect([range.status, (await range.arrayBuffer()).byteLength]).toEqual([206, 100]);
    const failed = await post(
      `/v1/deployments/${e.deploymentId}/result`,
      { status: 'failed', code: 'CARD_WRITE_FAILED', message: 'card went away' },
      bearer,
    );
    expect(failed.status).toBe(200);

    const config = await post('/api/config', { product_type: 'KXP2', venue_code: 'CORO', serial_number: '5e000002' });
    const seed = (await config.json()) as { image_url: string; image_size: number };
    const image = await fetch(seed.image_url);
    expect((await image.arrayBuffer()).byteLength).toBe(seed.image_size);

    const after = await scrape();
    expect(moved(after, 'rpi_deploy_served_bytes_total{path="chunks"}')).toBe(
      chunk.storedBytes + chunk.sizeBytes + 100,
    );
    expect(moved(after, 'rpi_deploy_served_bytes_total{path="seed-image"}')).toBe(seed.image_size);
    expect(moved(after, 'rpi_deploy_served_bytes_total{path="runtime"}')).toBe(0);
    expect(moved(after, 'rpi_deploy_assignment_seconds_count{contract="v1"}')).toBe(1);
    expect(moved(after, 'rpi_deploy_assignment_seconds_count{contract="seed"}')).toBe(1);
    expect(after.get('rpi_deploy_assignment_seconds_bucket{le="+Inf",contract="v1"}')).toBe(
      after.get('rpi_deploy_assignment_seconds_count{contract="v1"}'),
    );
    expect(moved(after, 'rpi_deploy_assignment_seconds_sum{contract="v1"}')).toBeGreaterThan(0);
    expect(moved(after, 'rpi_deploy_deployment_outcomes_total{outcome="failed"}')).toBe(1);
    expect(moved(after, 'rpi_deploy_deployment_outcomes_total{outcome="success"}')).toBe(0);
    // The gauge is the database now: the failed v1 deployment and the enrolled seed one.
    expect(after.get('rpi_deploy_deployments{phase="failed"}')).toBe(1);
    expect(after.get('rpi_deploy_deployments{phase="enrolled"}')).toBe(1);
    expect(after.get('rpi_deploy_deployments{phase="success"}')).toBe(0);
    expect(after.get('rpi_deploy_data_dir_free_bytes')).toBeGreaterThan(0);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(after.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('refuses a scraper without the token or with a wrong one; the device listener has no /metrics', async () => {
    const none = await fetch(`${server.management}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toEqual({
      error: '/metrics needs the token of management.metrics.token: Authorization: Bearer TOKEN',
      code: 'METRICS_REFUSED',
    });
    const wrong = await fetch(`${server.management}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe('the bearer token is not management.metrics.token');
    const device = await fetch(`${server.device}/metrics`, { headers: auth });
    expect(device.status).toBe(404);
    expect(await device.text()).not.toContain('rpi_deploy_');
  });

  it('is off unless configured; with fromLocalhost it answers this machine without a token', async () => {
    const off = await startServer();
    try {
      const res = await fetch(`${off.management}/metrics`, { headers: auth });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBe(
        '/metrics is off: set management.metrics.token (for a scraper) or management.metrics.fromLocalhost',
      );
    } finally {
      await off.stop();
    }
    const local = await startServer({ flags: { 'management.metrics.fromLocalhost': true } });
    try {
      const res = await fetch(`${local.management}/metrics`);
      expect(res.status).toBe(200);
      expect(parseExposition(await res.text()).get('rpi_deploy_deployments{phase="enrolled"}')).toBe(0);
    } finally {
      await local.stop();
    }
  });

  it("shows the served-bytes rate as the server link's use in the system status, back to 0 when idle", async () => {
    const viewer = await signedIn(server, 'lina', 'viewer');
    const rate = async () =>
      (await viewer.get<{ deviceLink: { servedBytesPerSec: number } }>('/api/v1/system')).body.deviceLink
        .servedBytesPerSec;
    const enrolled = await post('/v1/enroll', {
      serial: '5e000003',
      macs: [],
      storageBytes: 64e9,
      venue: 'CORO',
      product: 'KXP2',
    });
    const e = (await enrolled.json()) as EnrollReply;
    const chunk = e.plan.manifest.chunks[0]!;
    const raw = await fetch(`${server.device}/v1/deployments/${e.deploymentId}/chunks/0`, {
      headers: { authorization: `Bearer ${e.token}`, 'accept-encoding': 'identity' },
    });
    expect((await raw.arrayBuffer()).byteLength).toBe(chunk.sizeBytes);
    // The rate counts whole seconds: the one the chunk went out in must have ended.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await rate()).toBeGreaterThanOrEqual(Math.round(chunk.sizeBytes / 5));
    await new Promise((r) => setTimeout(r, 6100));
    expect(await rate()).toBe(0);
  }, 20_000);
});
