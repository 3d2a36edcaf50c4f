import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { jsonRequest, rawRequest } from '../helpers/raw-http.js';
import { runSeedInstaller, type SeedInstallerOptions } from '../helpers/seed-installer.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The seed's device contract, spoken by a client that behaves as its on-board installer does. */
let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let boards = 0;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'bookworm', seed: 'seed' });
  server = await startServer();
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.venues.create({ code: 'ARIA', name: 'Arena Karting' });
  await fleet.pools.import({ venue: 'CORO', text: '1-20' });
  await fleet.pools.import({ venue: 'ARIA', text: '1-20' });
  await images.import({ path: pi.path }, { product: 'KXP2', version: '2026.11.2', activate: true });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

/** A new board: its own serial, MAC and card file. */
function board(extra: Partial<SeedInstallerOptions> = {}): SeedInstallerOptions {
  boards++;
  return {
    server: server.device,
    product: 'KXP2',
    venue: 'CORO',
    serial: (0x9ffe0000 + boards).toString(16),
    mac: `2c:cf:67:00:00:${boards.toString(16).padStart(2, '0')}`,
    cardPath: join(dir.path, `card-${boards}.img`),
    ...extra,
  };
}

const phasesOf = async (deploymentId: number) =>
  (await server.app.fleet.records.deployment(deploymentId)).history
    .filter((h) => h.type === 'deployment.phase')
    .map((h) => h.data['phase']);
const seedReports = async (serial: string | null) =>
  (await server.app.fleet.records.history({ limit: 10_000 })).filter(
    (h) => h.type === 'seed.report' && h.data['serial'] === serial,
  );
const curl = async (args: string[]) =>
  (await promisify(execFile)('curl', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })).stdout;

describe('the seed installer, run against rpi-deploy', () => {
  it('walks starting → config → downloading → verifying → customizing → success, the bytes matching image_size and image_checksum', async () => {
    const o = board();
    const run = await runSeedInstaller(o);
    expect(run.error).toBeUndefined();
    expect(run.ok).toBe(true);
    expect(run.config).toEqual({
      server_ip: '127.0.0.1',
      hostname: 'KXP2-CORO-001',
      product_type: 'KXP2',
      venue_code: 'CORO',
      image_url: `${server.device}/images/KXP2-2026.11.2.img`,
      image_size: pi.sizeBytes,
      image_checksum: pi.sha256,
      version: '3.0',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
      serial_number: o.serial,
      mac_address: o.mac,
      deployment_id: expect.any(Number),
      reused_hostname: false,
      image_filename: 'KXP2-2026.11.2.img',
      image_version: '2026.11.2',
    });
    expect(run.written).toEqual({ bytes: pi.sizeBytes, sha256: pi.sha256 });
    expect(readFileSync(o.cardPath).equals(readFileSync(pi.path))).toBe(true);

    expect(run.reports.map((r) => [r.status, r.httpStatus])).toEqual([
      ['starting', 200],
      ['downloading', 200],
      ['verifying', 200],
      ['customizing', 200],
      ['success', 200],
    ]);
    expect(run.reports[0]!.sent['hostname']).toBeNull();
    expect(run.reports[0]!.reply).toMatchObject({ received: true, hostname: null });
    for (const r of run.reports.slice(1)) expect(r.reply).toMatchObject({ received: true, hostname: 'KXP2-CORO-001' });

    const id = run.config!['deployment_id'] as number;
    expect(await phasesOf(id)).toEqual(['enrolled', 'downloading', 'verifying', 'customizing', 'success']);
    // `starting` came before the board had a deployment: it is kept, not lost.
    expect(await seedReports(o.serial)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ status: 'starting', hostname: null }) }),
    ]);
  });

  it('keeps the installer’s error_message as the reason of a failed run', async () => {
    const run = await runSeedInstaller(board({ cardBytes: 1024 }));
    expect(run.ok).toBe(false);
    expect(run.error).toBe(`Image (${pi.sizeBytes} bytes) is larger than the SD card (1024 bytes)`);
    expect(run.reports.map((r) => r.status)).toEqual(['starting', 'downloading', 'failed']);
    expect(run.reports.at(-1)!.reply).toMatchObject({
      received: true,
      hostname: run.config!['hostname'],
      deployment_status: 'failed',
    });
    const { deployment } = await server.app.fleet.records.deployment(run.config!['deployment_id'] as number);
    expect([deployment.status, deployment.error]).toEqual(['failed', run.error]);
  });

  it('names a board run without --venue (venue_code null) from the top active batch', async () => {
    const batch = await server.app.fleet.batches.create({ venue: 'ARIA', product: 'KXP2', expectedCount: 5 });
    await server.app.fleet.batches.apply(batch.id, 'activate');
    const o = board();
    delete o.venue;
    const run = await runSeedInstaller(o);
    await server.app.fleet.batches.apply(batch.id, 'cancel');
    expect(run.ok).toBe(true);
    expect(run.config).toMatchObject({ hostname: 'KXP2-ARIA-001', venue_code: 'ARIA' });
    const { deployment } = await server.app.fleet.records.deployment(run.config!['deployment_id'] as number);
    expect([deployment.batchId, deployment.status]).toEqual([batch.id, 'success']);
  });

  it('knows a board whose /proc/cpuinfo has no serial by its MAC', async () => {
    const o = board({ serial: 'unknown', mac: '2C:CF:67:AB:CD:EF' });
    const run = await runSeedInstaller(o);
    expect(run.ok).toBe(true);
    expect(run.config).toMatchObject({
      serial_number: '2ccf67abcdef',
      hostname: expect.stringMatching(/^KXP2-CORO-\d{3}$/),
    });
    const { deployment } = await server.app.fleet.records.deployment(run.config!['deployment_id'] as number);
    expect(deployment.status).toBe('success');
    const noMac = await jsonRequest(server.device, 'POST', '/api/config', {
      product_type: 'KXP2',
      venue_code: 'CORO',
      serial_number: 'unknown',
      mac_address: null,
    });
    expect([noMac.status, noMac.body['code']]).toEqual([400, 'FLEET_SERIAL_INVALID']);
  });
});

describe('the seed routes', () => {
  it('serve the active KXP2 image as kxp2_master.img, with Content-Length and Range', async () => {
    const image = readFileSync(pi.path);
    const whole = await rawRequest(server.device, 'GET', '/images/kxp2_master.img');
    expect([whole.status, whole.headers['content-length'], whole.body.equals(image)]).toEqual([
      200,
      String(pi.sizeBytes),
      true,
    ]);
    const part = await rawRequest(server.device, 'GET', '/images/kxp2_master.img', {
      headers: { range: 'bytes=4190000-4200000' },
    });
    expect([part.status, part.headers['content-range'], part.body.equals(image.subarray(4190000, 4200001))]).toEqual([
      206,
      `bytes 4190000-4200000/${pi.sizeBytes}`,
      true,
    ]);
    const resumed = await curl([
      '-sS',
      '-f',
      '-r',
      `${pi.sizeBytes - 1000}-`,
      `${server.device}/images/KXP2-2026.11.2.img`,
    ]);
    expect(resumed.equals(image.subarray(pi.sizeBytes - 1000))).toBe(true);
    expect((await rawRequest(server.device, 'GET', '/images/rxp2_master.img')).status).toBe(404);
    expect((await rawRequest(server.device, 'GET', '/images/KXP2-9.9.9.img')).status).toBe(404);
  });

  it('answer /health with "healthy" and a timestamp, for the seed’s scripts that grep for it', async () => {
    const body = (await curl(['-sS', '-f', `${server.device}/health`])).toString();
    expect(body).toContain('"status":"healthy"');
    expect(JSON.parse(body)).toMatchObject({
      status: 'healthy',
      timestamp: expect.any(String),
      version: expect.any(String),
      database: { ok: true },
    });
  });

  it('answer a config request for a product without an active image with 404 and an error', async () => {
    const r = await jsonRequest(server.device, 'POST', '/api/config', {
      product_type: 'RXP2',
      venue_code: 'CORO',
      serial_number: 'c0ffee01',
      mac_address: null,
    });
    expect(r.status).toBe(404);
    expect(r.body['error']).toEqual(expect.stringContaining('rpi-deploy image add'));
  });

  it.each([
    [
      'a board that never asked for its config',
      { status: 'downloading', serial: 'abcabc01', hostname: 'KXP2-CORO-099' },
      'abcabc01',
    ],
    ['a serial that is not one', { status: 'success', serial: '../../etc', hostname: null }, '../../etc'],
    ['no serial at all', { status: 'verifying', hostname: null }, null],
  ])('record a report from %s, answering as the seed did', async (_case, body, serial) => {
    const r = await jsonRequest(server.device, 'POST', '/api/status', {
      mac_address: null,
      message: 'm',
      error_message: null,
      timestamp: 1764999999.25,
      ...body,
    });
    expect(r).toEqual({
      status: 200,
      body: { received: true, hostname: body.hostname, deployment_id: null, deployment_status: null },
    });
    expect(await seedReports(serial)).toHaveLength(1);
  });

  it('record, and do not apply, a token-less report for a deployment the v1 agent opened', async () => {
    const serial = '9ffe0f03';
    const v1 = await jsonRequest(server.device, 'POST', '/v1/enroll', {
      serial,
      macs: [],
      storageBytes: 1e10,
      venue: 'CORO',
      product: 'KXP2',
    });
    expect(v1.status).toBe(200);
    const r = await jsonRequest(server.device, 'POST', '/api/status', {
      status: 'success',
      serial,
      hostname: null,
      timestamp: 1764999999.5,
    });
    expect(r).toEqual({
      status: 200,
      body: { received: true, hostname: v1.body['hostname'], deployment_id: null, deployment_status: null },
    });
    expect((await server.app.fleet.records.deployment(v1.body['deploymentId'] as number)).deployment.status).toBe(
      'enrolled',
    );
    expect(await seedReports(serial)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ note: expect.stringContaining('v1 agent') }) }),
    ]);
  });

  it('refuse a report in a status word the installer never sends', async () => {
    const r = await jsonRequest(server.device, 'POST', '/api/status', { status: 'flashing', serial: '9ffe0001' });
    expect([r.status, r.body['code']]).toEqual([400, 'REQUEST_INVALID']);
  });
});
