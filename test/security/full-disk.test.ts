import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn, type ManagementClient } from '../helpers/management-client.js';
import { buildPiImage, compressImage, type PiImage } from '../helpers/pi-image.js';
import { mountSmallDisk, type SmallDisk } from '../helpers/small-disk.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 12 items 4 and 5: the data directory on a filesystem of its own (a 48 MiB tmpfs) that is
 * filled to the last byte, then freed. What an operator and a board see while the disk is full,
 * and that the server comes back by itself once there is space again.
 */
let disk: SmallDisk;
let server: TestServer;
let op: ManagementClient;
let images: ReturnType<typeof tempDir>;
let pi: PiImage;

beforeAll(async () => {
  images = tempDir('rpi-deploy-full-disk-');
  pi = buildPiImage(images.path, { seed: 'full-disk' });
  disk = mountSmallDisk(48);
  server = await startServer({ flags: { dataDir: join(disk.path, 'data') } });
  op = await signedIn(server, 'olga', 'operator');
  await server.app.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  // The seed's config request names an image: without an active one it is refused with a 404.
  const rxp2 = buildPiImage(images.path, { seed: 'full-disk-rxp2' });
  await server.app.images.import({ path: rxp2.path }, { product: 'RXP2', version: '1', activate: true });
});
afterAll(async () => {
  await server?.stop();
  disk?.unmount();
  images?.remove();
});

/** Uploads as the browser does: the raw bytes as the body, streamed. */
async function upload(file: string, query: string) {
  const res = await fetch(`${server.management}/api/v1/images?${query}`, {
    method: 'POST',
    headers: {
      cookie: op.cookie!,
      'x-csrf-token': op.csrf!,
      origin: server.management,
      'content-type': 'application/octet-stream',
      'content-length': String(statSync(file).size),
    },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

let serials = 0;
async function configRequest() {
  const res = await fetch(`${server.device}/api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      product_type: 'RXP2',
      venue_code: 'CORO',
      serial_number: `10000000${(0xd15c0000 + serials++).toString(16)}`,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function health(base: string) {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a full disk', () => {
  it('during an image upload answers IMAGE_STORE_FAILED (as the CLI does), keeps nothing, and the upload works once space is back', async () => {
    const xz = compressImage(pi.path, 'xz');
    disk.fill();
    // Raw, and through the xz decoder, whose pipe the torn-down pipeline breaks as well.
    for (const [file, name] of [
      [pi.path, 'pi.img'],
      [xz, 'pi.img.xz'],
    ] as const) {
      const r = await upload(file, `product=KXP2&version=1&filename=${name}`);
      expect([name, r.status, r.body['code']]).toEqual([name, 500, 'IMAGE_STORE_FAILED']);
      expect(r.body['error']).toMatch(/free some space/);
    }
    const kept = (await op.get<{ product: string }[]>('/api/v1/images')).body;
    expect(kept.filter((i) => i.product === 'KXP2')).toEqual([]);
    expect(readdirSync(join(disk.path, 'data', 'images', 'staging'))).toEqual([]);

    disk.free();
    const again = await upload(pi.path, 'product=KXP2&version=1&filename=pi.img');
    expect([again.status, again.body['sha256']]).toEqual([201, pi.sha256]);
  });

  it('during database writes answers 503 "disk full" with what to free, shows it on /health and the system page, and recovers by itself', async () => {
    expect((await configRequest()).status).toBe(200);
    disk.fill();
    // SQLite reuses the space its write-ahead log already holds: writes fail once that is used up.
    let refused: Awaited<ReturnType<typeof configRequest>> | undefined;
    for (let i = 0; i < 2000 && !refused; i++) {
      const r = await configRequest();
      if (r.status !== 200) refused = r;
    }
    expect(refused).toBeDefined();
    expect(refused!.status).toBe(503);
    expect(refused!.body).toMatchObject({ code: 'STORE_DISK_FULL', error: expect.stringMatching(/disk full/i) });
    expect(refused!.body['error']).toContain(join(disk.path, 'data'));

    for (const base of [server.device, server.management]) {
      const h = await health(base);
      expect([h.status, h.body['status']]).toEqual([503, 'degraded']);
      expect(h.body['database']).toMatchObject({ ok: false, error: expect.stringMatching(/disk full/i) });
    }
    const system = await op.get<{ database: Record<string, unknown> }>('/api/v1/system');
    expect(system.body.database).toMatchObject({ ok: false, error: expect.stringMatching(/disk full/i) });

    disk.free();
    for (const base of [server.device, server.management])
      expect(await health(base)).toMatchObject({ status: 200, body: { status: 'healthy' } });
    expect((await configRequest()).status).toBe(200);
    expect((await op.get<{ database: Record<string, unknown> }>('/api/v1/system')).body.database).toMatchObject({
      ok: true,
    });
  });
});
