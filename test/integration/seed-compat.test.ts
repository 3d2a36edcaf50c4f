import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { jsonRequest, rawRequest } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * An installer speaking only the seed's contract (pi_installer.py): POST /api/config, download
 * /images/<file> (here with curl, a real third-party client), POST /api/status at each phase.
 */
let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'bookworm', seed: 'seed' });
  server = await startServer();
  await server.app.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await server.app.fleet.pools.import({ venue: 'CORO', text: '1-10' });
  await server.app.images.import({ path: pi.path }, { product: 'KXP2', version: '2026.11.2', activate: true });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

const post = (path: string, body: unknown) => jsonRequest(server.device, 'POST', path, body);
/** curl in its own process; never execFileSync here, the server shares this event loop. */
const curl = async (args: string[]) => (await promisify(execFile)('curl', args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 })).stdout;

describe('the seed contract', () => {
  it('gets config, downloads the image whose SHA-256 matches image_checksum, and reports every status', async () => {
    const config = await post('/api/config', { product_type: 'KXP2', venue_code: 'CORO', serial_number: '9ffefdef', mac_address: '2c:cf:67:01:02:03' });
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({ hostname: 'KXP2-CORO-001', image_filename: 'KXP2-2026.11.2.img', image_checksum: pi.sha256, image_size: pi.sizeBytes });
    const status = (s: string, extra: object = {}) => post('/api/status', { serial_number: '9ffefdef', status: s, hostname: config.body['hostname'], ...extra });

    expect((await status('starting')).body).toEqual({ status: 'ok', deployment_id: config.body['deployment_id'], hostname: 'KXP2-CORO-001', deployment_status: 'enrolled' });
    expect((await status('downloading')).body).toMatchObject({ deployment_status: 'downloading' });
    const file = join(dir.path, 'download.img');
    const out = (await curl(['-sS', '-f', '-o', file, '-w', '%{http_code} %{size_download}', String(config.body['image_url'])])).toString();
    expect(out).toBe(`200 ${pi.sizeBytes}`);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(config.body['image_checksum']);
    expect((await status('verifying')).body).toMatchObject({ deployment_status: 'verifying' });
    expect((await status('customizing')).body).toMatchObject({ deployment_status: 'customizing' });
    expect((await status('success')).body).toMatchObject({ deployment_status: 'success' });

    const { history } = await server.app.fleet.records.deployment(config.body['deployment_id'] as number);
    expect(history.filter((h) => h.type === 'deployment.phase').map((h) => h.data['phase'])).toEqual(['enrolled', 'downloading', 'verifying', 'customizing', 'success']);
  });

  it('keeps the failure reason the installer sends', async () => {
    const config = await post('/api/config', { product_type: 'KXP2', venue_code: 'CORO', serial_number: '9ffefd02' });
    const r = await post('/api/status', { serial_number: '9ffefd02', deployment_id: config.body['deployment_id'], status: 'failed', error_message: 'SD card not found' });
    expect(r.body).toMatchObject({ deployment_status: 'failed' });
    expect((await server.app.fleet.records.deployment(config.body['deployment_id'] as number)).deployment.error).toBe('SD card not found');
  });

  it('serves ranges and HEAD of the image, as resuming downloaders use them', async () => {
    const image = readFileSync(pi.path);
    const part = await rawRequest(server.device, 'GET', '/images/KXP2-2026.11.2.img', { headers: { range: 'bytes=4190000-4200000' } });
    expect([part.status, part.headers['content-range'], part.body.equals(image.subarray(4190000, 4200001))]).toEqual([206, `bytes 4190000-4200000/${pi.sizeBytes}`, true]);
    const resumed = await curl(['-sS', '-f', '-r', `${pi.sizeBytes - 1000}-`, `${server.device}/images/KXP2-2026.11.2.img`]);
    expect(resumed.equals(image.subarray(pi.sizeBytes - 1000))).toBe(true);
    const head = await rawRequest(server.device, 'HEAD', '/images/KXP2-2026.11.2.img');
    expect([head.status, head.headers['content-length'], head.headers['accept-ranges'], head.body.length]).toEqual([200, String(pi.sizeBytes), 'bytes', 0]);
  });

  it.each([
    ['an unknown board', { serial_number: 'abcabc01', status: 'downloading' }, 404, 'FLEET_DEVICE_UNKNOWN'],
    ['an unknown status word', { serial_number: '9ffefdef', status: 'flashing' }, 400, 'REQUEST_INVALID'],
    ['another board’s deployment', { serial_number: '9ffefd02', status: 'success', deployment_id: 1 }, 404, 'DEVICE_STATUS_NO_DEPLOYMENT'],
    ['a bad serial', { serial_number: '../../etc', status: 'success' }, 400, 'FLEET_SERIAL_INVALID'],
  ])('refuses a status for %s', async (_case, body, status, code) => {
    const r = await post('/api/status', body);
    expect([r.status, r.body['code']]).toEqual([status, code]);
  });

  it('refuses a token-less status for a deployment of the v1 agent', async () => {
    const v1 = await post('/v1/enroll', { serial: '9ffefd03', macs: [], storageBytes: 1e10, venue: 'CORO', product: 'KXP2' });
    expect(v1.status).toBe(200);
    const r = await post('/api/status', { serial_number: '9ffefd03', status: 'success' });
    expect([r.status, r.body['code']]).toEqual([409, 'DEVICE_TOKEN_REQUIRED']);
    expect((await server.app.fleet.records.deployment(v1.body['deploymentId'] as number)).deployment.status).toBe('enrolled');
  });

  it('answers an unknown image name with 404', async () => {
    expect((await rawRequest(server.device, 'GET', '/images/KXP2-9.9.9.img')).status).toBe(404);
  });
});
