import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeploymentService } from '../../src/fleet/index.js';
import { cachedManifests } from '../../src/images/index.js';
import { createLogger } from '../../src/lib/logger.js';
import type { EnrollReply, ProgressReport } from '../../src/protocol/agent-api.js';
import type { Manifest } from '../../src/protocol/manifest.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { jsonRequest } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The deployment rules both device contracts share (fleet/deployments.service.ts), over real HTTP:
 * each test here fails without its rule.
 */
let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let manifest: Manifest;
let serials = 0x7e000000;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'rules' });
  server = await startServer();
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.venues.create({ code: 'ARIA', name: 'Arena Karting' });
  await fleet.pools.import({ venue: 'CORO', text: '1-50' });
  await fleet.pools.import({ venue: 'ARIA', text: '1-50' });
  const record = await images.import({ path: pi.path }, { product: 'KXP2', version: '2026.11.1', activate: true });
  manifest = await images.manifest(record.id);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  jsonRequest(server.device, 'POST', path, body, headers);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const nextSerial = () => (serials++).toString(16);
const used = () => manifest.chunks.filter((c) => c.used).map((c) => c.index);

async function enroll(serial: string, venue = 'CORO'): Promise<EnrollReply> {
  const r = await post('/v1/enroll', { serial, macs: [], storageBytes: 64e9, venue, product: 'KXP2' });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as unknown as EnrollReply;
}
const succeed = (d: EnrollReply) =>
  post(
    `/v1/deployments/${d.deploymentId}/result`,
    { status: 'success', verifyMethod: 'direct-io', verifiedChunks: used() },
    bearer(d.token),
  );
const seedConfig = (serial: string, venue: string | null = 'CORO') =>
  post('/api/config', {
    product_type: 'KXP2',
    venue_code: venue,
    serial_number: serial,
    mac_address: '2c:cf:67:00:11:22',
  });

describe('the delta hint (plan.changedChunks)', () => {
  const fail = (d: EnrollReply) =>
    post(
      `/v1/deployments/${d.deploymentId}/result`,
      { status: 'failed', code: 'AGENT_CARD_WRITE', message: 'the card went away' },
      bearer(d.token),
    );

  it('comes only after a successful deployment, never after none or a failed one, nor with delta off', async () => {
    const serial = nextSerial();
    const first = await enroll(serial);
    expect(first.plan.changedChunks).toBeUndefined();
    expect((await succeed(first)).body).toEqual({ status: 'success' });

    await server.app.fleet.enrollment.requestReimage(serial);
    const again = await enroll(serial);
    // The same image as the last one written: nothing differs, every chunk is read first.
    expect(again.plan.changedChunks).toEqual([]);
    expect((await fail(again)).status).toBe(200);

    const afterFailure = await enroll(serial);
    expect(afterFailure.plan.changedChunks).toBeUndefined();
    expect((await succeed(afterFailure)).body).toEqual({ status: 'success' });

    await server.app.fleet.products.update('KXP2', { imaging: { delta: false } });
    try {
      await server.app.fleet.enrollment.requestReimage(serial);
      expect((await enroll(serial)).plan.changedChunks).toBeUndefined();
    } finally {
      await server.app.fleet.products.update('KXP2', { imaging: { delta: true } });
    }
  });
});

describe('the device side never undoes an operator’s decision', () => {
  it('a board imaged successfully is not reopened by an unauthenticated POST /api/config, nor by v1 enroll, until an operator asks', async () => {
    const serial = nextSerial();
    const d = await enroll(serial);
    expect((await succeed(d)).body).toEqual({ status: 'success' });
    expect((await server.app.fleet.records.netbootAllowed(serial)).allowed).toBe(false);

    const seed = await seedConfig(serial);
    expect([seed.status, seed.body['code']]).toEqual([409, 'FLEET_DEVICE_IMAGED']);
    expect(String(seed.body['error'])).toContain(`rpi-deploy device reimage ${serial}`);
    const v1 = await post('/v1/enroll', { serial, macs: [], storageBytes: 64e9, venue: 'CORO', product: 'KXP2' });
    expect([v1.status, v1.body['code']]).toEqual([409, 'FLEET_DEVICE_IMAGED']);
    // TFTP still refuses it, and nothing new was opened.
    expect((await server.app.fleet.records.netbootAllowed(serial)).allowed).toBe(false);
    expect((await server.app.fleet.records.device(serial)).deployments.map((x) => x.status)).toEqual(['success']);

    await server.app.fleet.enrollment.requestReimage(serial);
    const again = await seedConfig(serial);
    expect([again.status, again.body['hostname']]).toEqual([200, d.hostname]);
  });

  it('another venue in POST /api/config does not move a board enrolled through v1 or release its name', async () => {
    const serial = nextSerial();
    const d = await enroll(serial, 'CORO');
    const moved = await seedConfig(serial, 'ARIA');
    expect([moved.status, moved.body['code']]).toEqual([409, 'FLEET_DEVICE_NAMED_ELSEWHERE']);
    expect(String(moved.body['error'])).toContain(`rpi-deploy pool release ${d.hostname}`);
    const entry = (await server.app.fleet.pools.list({ venue: 'CORO' })).find((e) => e.hostname === d.hostname);
    expect(entry).toMatchObject({ status: 'assigned', serial });
    expect((await server.app.fleet.records.deployment(d.deploymentId)).deployment.status).toBe('enrolled');
    // Without a venue the board keeps its name, as the seed's installer run without --venue expects.
    const kept = await seedConfig(serial, null);
    expect([kept.status, kept.body['hostname']]).toEqual([200, d.hostname]);
  });
});

describe('a deployment token ends with its deployment', () => {
  const reads = (d: EnrollReply) => [
    `/v1/deployments/${d.deploymentId}/manifest`,
    `/v1/deployments/${d.deploymentId}/chunks/${used()[0]}`,
  ];
  const expectEnded = async (d: EnrollReply) => {
    for (const path of reads(d)) {
      const r = await jsonRequest(server.device, 'GET', path, undefined, bearer(d.token));
      expect([path, r.status, r.body['code']]).toEqual([path, 403, 'FLEET_DEPLOYMENT_ENDED']);
    }
  };

  it.each([
    ['succeeded', async (d: EnrollReply) => void (await succeed(d))],
    [
      'failed',
      async (d: EnrollReply) =>
        void (await post(
          `/v1/deployments/${d.deploymentId}/result`,
          { status: 'failed', code: 'AGENT_CARD', message: 'gone' },
          bearer(d.token),
        )),
    ],
    [
      'superseded',
      async (d: EnrollReply) =>
        void (await enroll(String((await server.app.fleet.records.deployment(d.deploymentId)).deployment.serial))),
    ],
  ])('%s: its token no longer reads the manifest or chunks', async (_case, end) => {
    const d = await enroll(nextSerial());
    for (const path of reads(d))
      expect((await jsonRequest(server.device, 'GET', path, undefined, bearer(d.token))).status).toBe(200);
    await end(d);
    await expectEnded(d);
    // Progress still answers with the final status, so the agent knows to stop.
    const p = await post(
      `/v1/deployments/${d.deploymentId}/progress`,
      { phase: 'writing', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [] },
      bearer(d.token),
    );
    expect([p.status, (p.body as { status: string }).status]).toEqual([
      200,
      (await server.app.fleet.records.deployment(d.deploymentId)).deployment.status,
    ]);
  });
});

describe('a deployment that falls silent', () => {
  it('fails after device.silenceMinutes (default 2 h) with "no report since …", and its board keeps its name', async () => {
    expect(server.app.config.device.silenceMinutes).toBe(120);
    const quiet = await enroll(nextSerial());
    const talking = await enroll(nextSerial());
    const seed = await seedConfig(nextSerial());
    expect(seed.status).toBe(200);
    const { store, events, images } = server.app;
    const at = (ms: number) =>
      createDeploymentService({
        store,
        events,
        log: createLogger('silent'),
        clock: () => new Date(Date.now() + ms),
        images: {
          active: (p) => images.active(p),
          manifest: cachedManifests(images),
          has: async (id) => (await images.list()).some((i) => i.id === id),
        },
        options: { silenceMs: server.app.config.device.silenceMinutes * 60_000, progressIntervalMs: 1000 },
      });
    const hour = 3_600_000;
    expect(await at(hour).failSilent()).toEqual([]);
    // One board reports (same phase, no history row) an hour and a half in: it is heard, not silent.
    const report: ProgressReport = {
      phase: 'downloading',
      bytesWritten: 0,
      bytesDone: 0,
      bytesTotal: 1,
      rateBytesPerSec: 0,
      verifiedChunks: [],
    };
    await at(0).reportProgress(talking.deploymentId, report);
    await at(1.5 * hour).reportProgress(talking.deploymentId, report);

    const failed = await at(2 * hour + 60_000).failSilent();
    const ids = failed.map((d) => d.id);
    expect(ids).toEqual(expect.arrayContaining([quiet.deploymentId, seed.body['deployment_id']]));
    expect(ids).not.toContain(talking.deploymentId);
    const { deployment } = await server.app.fleet.records.deployment(quiet.deploymentId);
    expect(deployment).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^no report since \d{4}-\d{2}-\d{2}T/),
    });
    expect((await server.app.fleet.records.deployment(talking.deploymentId)).deployment.status).toBe('downloading');

    const back = await enroll(deployment.serial);
    expect([back.hostname, back.reusedHostname]).toEqual([quiet.hostname, true]);
  });
});
