import { createHash } from 'node:crypto';
import { readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decompress } from 'zstd-napi';
import type { EnrollReply } from '../../src/protocol/agent-api.js';
import type { Manifest } from '../../src/protocol/manifest.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { jsonRequest, rawRequest } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Device API v1 over real HTTP: the contract, and what it does with hostile input. */
let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let manifest: Manifest;
let serials = 0x5e000000;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'v1' });
  server = await startServer();
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.pools.import({ venue: 'CORO', text: '1-200' });
  const record = await images.import({ path: pi.path }, { product: 'KXP2', version: '2026.11.1', activate: true });
  manifest = await images.manifest(record.id);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  jsonRequest(server.device, 'POST', path, body, headers);
const get = (path: string, headers: Record<string, string> = {}) =>
  jsonRequest(server.device, 'GET', path, undefined, headers);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function enroll(extra: Record<string, unknown> = {}): Promise<EnrollReply> {
  const r = await post('/v1/enroll', {
    serial: (serials++).toString(16),
    macs: ['2c:cf:67:11:22:33'],
    storageBytes: 64e9,
    venue: 'CORO',
    product: 'KXP2',
    ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as unknown as EnrollReply;
}

describe('POST /v1/enroll', () => {
  it('names the board and answers with a token and the plan: manifest, customisation, nothing verified yet', async () => {
    const r = await enroll({ model: 'Raspberry Pi 5 Model B Rev 1.0' });
    expect(r).toMatchObject({
      apiVersion: 1,
      hostname: expect.stringMatching(/^KXP2-CORO-\d{3}$/),
      reusedHostname: false,
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(r.plan.manifest).toEqual(manifest);
    expect(r.plan.customisation).toMatchObject({
      format: 'cloud-init',
      hostname: r.hostname,
      instanceId: expect.stringMatching(new RegExp(`^rpi-deploy-${r.deploymentId}-\\d+$`)),
    });
    expect(r.plan.verifiedChunks).toEqual([]);
    expect(r.plan.progressIntervalMs).toBe(1000);
  });

  it('stores only a hash of the token', async () => {
    const r = await enroll();
    const rows = await server.app.store.db
      .selectFrom('deployment_tokens')
      .selectAll()
      .where('deployment_id', '=', r.deploymentId)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_sha256).toBe(createHash('sha256').update(r.token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(r.token);
  });

  it('works without venue and product when an active batch says them', async () => {
    const batch = await server.app.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 100 });
    await server.app.fleet.batches.apply(batch.id, 'activate');
    const r = await post('/v1/enroll', { serial: (serials++).toString(16), macs: [], storageBytes: 1 });
    expect(r.status).toBe(200);
    await server.app.fleet.batches.apply(batch.id, 'cancel');
  });

  it('closes the deployment as failed when the product has no image', async () => {
    const serial = (serials++).toString(16);
    const r = await post('/v1/enroll', { serial, macs: [], storageBytes: 1, venue: 'CORO', product: 'RXP2' });
    expect(r).toMatchObject({
      status: 404,
      body: { code: 'FLEET_NO_ACTIVE_IMAGE', error: expect.stringContaining('rpi-deploy image add') },
    });
    const [d] = (await server.app.fleet.records.device(serial)).deployments;
    expect(d).toMatchObject({ status: 'failed', error: expect.stringContaining('FLEET_NO_ACTIVE_IMAGE') });
  });

  it.each([
    ['a number for the serial', { serial: 12345678, macs: [], storageBytes: 1 }, 400, 'REQUEST_INVALID'],
    [
      'macs that are not a list',
      { serial: 'abcdef01', macs: '2c:cf:67:11:22:33', storageBytes: 1 },
      400,
      'REQUEST_INVALID',
    ],
    ['a negative size', { serial: 'abcdef01', macs: [], storageBytes: -1 }, 400, 'REQUEST_INVALID'],
    ['a fractional size', { serial: 'abcdef01', macs: [], storageBytes: 1.5 }, 400, 'REQUEST_INVALID'],
    ['an unknown field', { serial: 'abcdef01', macs: [], storageBytes: 1, admin: true }, 400, 'REQUEST_INVALID'],
    [
      'a boot token with shell characters',
      { serial: 'abcdef01', macs: [], storageBytes: 1, bootToken: '$(reboot)aaaaaaaaaaaaaaaa' },
      400,
      'REQUEST_INVALID',
    ],
    [
      '17 MACs',
      { serial: 'abcdef01', macs: Array(17).fill('2c:cf:67:11:22:33'), storageBytes: 1 },
      400,
      'REQUEST_INVALID',
    ],
    [
      'a bad MAC',
      { serial: 'abcdef01', macs: ['zz'], storageBytes: 1, venue: 'CORO', product: 'KXP2' },
      400,
      'FLEET_MAC_INVALID',
    ],
    [
      'an SQL-ish serial',
      { serial: "1' OR '1'='1", macs: [], storageBytes: 1, venue: 'CORO', product: 'KXP2' },
      400,
      'FLEET_SERIAL_INVALID',
    ],
    [
      'an unknown venue',
      { serial: 'abcdef01', macs: [], storageBytes: 1, venue: 'NOPE', product: 'KXP2' },
      404,
      'FLEET_VENUE_UNKNOWN',
    ],
  ])('refuses %s', async (_case, body, status, code) => {
    const r = await post('/v1/enroll', body);
    expect([r.status, r.body['code']]).toEqual([status, code]);
  });

  it.each([
    [
      'a body over 64 KiB',
      JSON.stringify({ serial: 'abcdef01', macs: [], storageBytes: 1, model: 'x'.repeat(70_000) }),
      413,
    ],
    ['broken JSON', '{"serial": ', 400],
    ['a JSON array', '[]', 400],
    ['null', 'null', 400],
  ])('refuses %s in the common error shape', async (_case, body, status) => {
    const r = await post('/v1/enroll', body);
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ error: expect.any(String), code: expect.any(String) });
  });
});

describe('token-protected routes', () => {
  let a: EnrollReply;
  let b: EnrollReply;
  beforeAll(async () => {
    a = await enroll();
    b = await enroll();
  });

  const routes = (d: EnrollReply) =>
    [
      ['GET', `/v1/deployments/${d.deploymentId}/manifest`, undefined],
      ['GET', `/v1/deployments/${d.deploymentId}/chunks/0`, undefined],
      [
        'POST',
        `/v1/deployments/${d.deploymentId}/progress`,
        { phase: 'downloading', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [] },
      ],
      ['POST', `/v1/deployments/${d.deploymentId}/result`, { status: 'failed', code: 'AGENT_X', message: 'no' }],
    ] as const;

  it.each([
    ['no token', {}, 401, 'DEVICE_TOKEN_MISSING'],
    ['a made-up token', bearer('A'.repeat(43)), 401, 'DEVICE_TOKEN_INVALID'],
    ['a malformed header', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 401, 'DEVICE_TOKEN_INVALID'],
    ['a token with a trailing space', { authorization: 'Bearer x ' }, 401, 'DEVICE_TOKEN_INVALID'],
  ])('refuse %s', async (_case, headers, status, code) => {
    for (const [method, path, body] of routes(a)) {
      const r = await jsonRequest(server.device, method, path, body, headers);
      expect([path, r.status, r.body['code']]).toEqual([path, status, code]);
    }
  });

  it('refuse the token of another deployment, and change nothing', async () => {
    for (const [method, path, body] of routes(a)) {
      const r = await jsonRequest(server.device, method, path, body, bearer(b.token));
      expect([path, r.status, r.body['code']]).toEqual([path, 403, 'DEVICE_TOKEN_FORBIDDEN']);
    }
    expect((await server.app.fleet.records.deployment(a.deploymentId)).deployment.status).toBe('enrolled');
  });

  it('serve the manifest and each chunk, stored (zstd) or decompressed, with ranges that resume mid-chunk', async () => {
    expect((await get(`/v1/deployments/${a.deploymentId}/manifest`, bearer(a.token))).body).toEqual(manifest);
    const c = manifest.chunks.find((x) => x.used && x.index > 0)!;
    const raw = readFileSync(pi.path).subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes);
    const path = `/v1/deployments/${a.deploymentId}/chunks/${c.index}`;

    const z = await rawRequest(server.device, 'GET', path, {
      headers: { ...bearer(a.token), 'accept-encoding': 'gzip, zstd' },
    });
    expect([z.status, z.headers['content-encoding'], Number(z.headers['content-length'])]).toEqual([
      200,
      'zstd',
      c.storedBytes,
    ]);
    expect(Buffer.from(decompress(z.body)).equals(raw)).toBe(true);
    const tail = await rawRequest(server.device, 'GET', path, {
      headers: {
        ...bearer(a.token),
        'accept-encoding': 'zstd',
        range: 'bytes=100-',
        'if-range': String(z.headers.etag),
      },
    });
    expect([tail.status, tail.headers['content-range']]).toEqual([
      206,
      `bytes 100-${c.storedBytes - 1}/${c.storedBytes}`,
    ]);
    expect(tail.body.equals(z.body.subarray(100))).toBe(true);

    const plain = await rawRequest(server.device, 'GET', path, { headers: bearer(a.token) });
    expect([plain.status, plain.headers['content-encoding'], plain.body.equals(raw)]).toEqual([200, undefined, true]);
    const mid = await rawRequest(server.device, 'GET', path, {
      headers: { ...bearer(a.token), range: 'bytes=1000-1999' },
    });
    expect([mid.status, mid.body.equals(raw.subarray(1000, 2000))]).toEqual([206, true]);
    // A validator from the other representation: the range is ignored and the whole chunk comes back.
    const stale = await rawRequest(server.device, 'GET', path, {
      headers: { ...bearer(a.token), range: 'bytes=1000-1999', 'if-range': String(z.headers.etag) },
    });
    expect([stale.status, stale.body.length]).toEqual([200, c.sizeBytes]);
    const past = await rawRequest(server.device, 'GET', path, {
      headers: { ...bearer(a.token), range: `bytes=${c.sizeBytes}-` },
    });
    expect([past.status, past.headers['content-range']]).toEqual([416, `bytes */${c.sizeBytes}`]);
  });

  it.each([
    ['past the last chunk', () => `/v1/deployments/${a.deploymentId}/chunks/${manifest.chunks.length}`, 404],
    ['negative', () => `/v1/deployments/${a.deploymentId}/chunks/-1`, 400],
    ['not a number', () => `/v1/deployments/${a.deploymentId}/chunks/abc`, 400],
    ['a climbing path', () => `/v1/deployments/${a.deploymentId}/chunks/..%2F..%2F..%2Fetc%2Fpasswd`, 400],
    ['a deployment id that is not a number', () => `/v1/deployments/..%2f1/chunks/0`, 400],
  ])('refuse a chunk index %s', async (_case, path, status) => {
    const r = await rawRequest(server.device, 'GET', path(), { headers: bearer(a.token) });
    expect(r.status).toBe(status);
  });

  it.each([
    [
      'an unknown phase',
      { phase: 'flashing', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [] },
      'REQUEST_INVALID',
    ],
    [
      'a success phase (only result may end a deployment)',
      { phase: 'success', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [] },
      'REQUEST_INVALID',
    ],
    [
      'a string for bytes',
      { phase: 'writing', bytesWritten: 1, bytesDone: '1', bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [] },
      'REQUEST_INVALID',
    ],
    [
      'too many chunk indexes',
      {
        phase: 'writing',
        bytesWritten: 0,
        bytesDone: 0,
        bytesTotal: 1,
        rateBytesPerSec: 0,
        verifiedChunks: Array.from({ length: 4097 }, (_, i) => i),
      },
      'REQUEST_INVALID',
    ],
    [
      'a chunk past the end',
      { phase: 'writing', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [99999] },
      'FLEET_CHUNK_NOT_USED',
    ],
  ])('refuse a progress report with %s', async (_case, body, code) => {
    const r = await post(`/v1/deployments/${a.deploymentId}/progress`, body, bearer(a.token));
    expect([r.status, r.body['code']]).toEqual([400, code]);
  });

  it('refuse a chunk that is not used as verified', async () => {
    const unused = manifest.chunks.find((c) => !c.used);
    expect(unused, 'the test image has an unused tail').toBeDefined();
    const r = await post(
      `/v1/deployments/${a.deploymentId}/progress`,
      {
        phase: 'writing',
        bytesWritten: 0,
        bytesDone: 0,
        bytesTotal: 1,
        rateBytesPerSec: 0,
        verifiedChunks: [unused!.index],
      },
      bearer(a.token),
    );
    expect([r.status, r.body['code']]).toEqual([400, 'FLEET_CHUNK_NOT_USED']);
  });

  it('record phases once each, keep verified chunks, and publish progress as live events only', async () => {
    const live: unknown[] = [];
    const off = server.app.events.subscribe((e) => e.type === 'deployment.progress' && live.push(e));
    const report = (phase: string, verifiedChunks: number[]) =>
      post(
        `/v1/deployments/${a.deploymentId}/progress`,
        { phase, bytesWritten: 20, bytesDone: 10, bytesTotal: 100, rateBytesPerSec: 5, verifiedChunks },
        bearer(a.token),
      );
    expect((await report('downloading', [])).body).toEqual({ status: 'downloading', verifiedCount: 0 });
    const [u0, u1, u2] = manifest.chunks.filter((c) => c.used).map((c) => c.index);
    expect((await report('writing', [u0!, u1!])).body).toEqual({ status: 'writing', verifiedCount: 2 });
    expect((await report('writing', [u1!, u2!])).body).toEqual({ status: 'writing', verifiedCount: 3 });
    expect((await report('downloading', [])).body).toEqual({ status: 'writing', verifiedCount: 3 }); // a late report changes nothing
    off();
    expect(live).toHaveLength(4);
    expect(live[2]).toMatchObject({
      seq: null,
      data: {
        deploymentId: a.deploymentId,
        phase: 'writing',
        bytesWritten: 20,
        bytesDone: 10,
        bytesTotal: 100,
        rateBytesPerSec: 5,
        chunksVerified: 3,
      },
    });
    const { history } = await server.app.fleet.records.deployment(a.deploymentId);
    expect(history.filter((h) => h.type === 'deployment.phase').map((h) => h.data['phase'])).toEqual([
      'enrolled',
      'downloading',
      'writing',
    ]);
    expect(history.some((h) => h.type === 'deployment.progress')).toBe(false);
  });

  it('refuse a success that the verified chunks do not back, and fail the deployment', async () => {
    const r = await post(
      `/v1/deployments/${a.deploymentId}/result`,
      { status: 'success', verifyMethod: 'direct-io', verifiedChunks: [] },
      bearer(a.token),
    );
    expect([r.status, r.body['code']]).toEqual([409, 'FLEET_RESULT_INCOMPLETE']);
    expect((await server.app.fleet.records.deployment(a.deploymentId)).deployment).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('FLEET_RESULT_INCOMPLETE'),
    });
    // Progress on a finished deployment tells the agent to stop.
    const p = await post(
      `/v1/deployments/${a.deploymentId}/progress`,
      { phase: 'writing', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [] },
      bearer(a.token),
    );
    expect(p.body).toMatchObject({ status: 'failed' });
  });

  it('accept a success once every used chunk is on record, and a repeated one', async () => {
    const used = manifest.chunks.filter((c) => c.used).map((c) => c.index);
    const ok = await post(
      `/v1/deployments/${b.deploymentId}/result`,
      { status: 'success', verifyMethod: 'direct-io', verifiedChunks: used },
      bearer(b.token),
    );
    expect(ok).toEqual({ status: 200, body: { status: 'success' } });
    expect(
      (
        await post(
          `/v1/deployments/${b.deploymentId}/result`,
          { status: 'success', verifyMethod: 'direct-io', verifiedChunks: [] },
          bearer(b.token),
        )
      ).body,
    ).toEqual({ status: 'success' });
    const contradiction = await post(
      `/v1/deployments/${b.deploymentId}/result`,
      { status: 'failed', code: 'AGENT_X', message: 'late' },
      bearer(b.token),
    );
    expect([contradiction.status, contradiction.body['code']]).toEqual([409, 'FLEET_DEPLOYMENT_FINISHED']);
  });

  it('let a re-enrolled board resume: verified chunks of the same image come back in the plan; the old token stops working', async () => {
    const serial = (serials++).toString(16);
    const first = (await post('/v1/enroll', { serial, macs: [], storageBytes: 1, venue: 'CORO', product: 'KXP2' }))
      .body as unknown as EnrollReply;
    const some = manifest.chunks
      .filter((c) => c.used)
      .map((c) => c.index)
      .slice(0, 3);
    const p = await post(
      `/v1/deployments/${first.deploymentId}/progress`,
      { phase: 'writing', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: some },
      bearer(first.token),
    );
    expect(p.body).toEqual({ status: 'writing', verifiedCount: 3 });
    const second = (await post('/v1/enroll', { serial, macs: [], storageBytes: 1, venue: 'CORO', product: 'KXP2' }))
      .body as unknown as EnrollReply;
    expect(second.hostname).toBe(first.hostname);
    expect(second.plan.verifiedChunks).toEqual(some);
    const old = await post(
      `/v1/deployments/${first.deploymentId}/progress`,
      { phase: 'writing', bytesWritten: 0, bytesDone: 0, bytesTotal: 1, rateBytesPerSec: 0, verifiedChunks: [] },
      bearer(first.token),
    );
    expect(old.body).toMatchObject({ status: 'failed' }); // superseded
  });
});

describe('no route reads outside the image store', () => {
  const hostile = [
    '/images/../../../../etc/passwd',
    '/images/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
    '/images/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/images/%2Fetc%2Fpasswd',
    '/images//etc/passwd',
    '/images/..%5C..%5Cetc%5Cpasswd',
    '/images/KXP2-2026.11.1.img%00.txt',
    '/images/%252e%252e%252fetc%252fpasswd',
    '/images/.%2e/.%2e/etc/passwd',
    '/images/KXP2-2026.11.1.img/../../../etc/passwd',
    '/v1/deployments/1/chunks/..%2F..%2F..%2Fetc%2Fpasswd',
    '/v1/deployments/%2e%2e/manifest',
    '/../../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
  ];
  it.each(hostile)('GET %s is refused', async (path) => {
    const r = await rawRequest(server.device, 'GET', path);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body.toString('latin1')).not.toMatch(/root:.*:0:0:/);
  });

  it('refuses a stored chunk that a symlink leads out of the store', async () => {
    const d = await enroll();
    const c = manifest.chunks.find((x) => x.used && x.index > 0)!;
    const chunkFile = join(server.dataDir, 'images', 'chunks', c.sha256.slice(0, 2), `${c.sha256}.zst`);
    const secret = join(dir.path, 'secret.txt');
    writeFileSync(secret, 'root:x:0:0:secret outside the store\n');
    renameSync(chunkFile, `${chunkFile}.real`);
    symlinkSync(secret, chunkFile);
    try {
      for (const encoding of ['zstd', 'identity']) {
        const r = await rawRequest(server.device, 'GET', `/v1/deployments/${d.deploymentId}/chunks/${c.index}`, {
          headers: { ...bearer(d.token), 'accept-encoding': encoding },
        });
        expect(r.status, encoding).toBeGreaterThanOrEqual(400);
        expect(r.body.toString('latin1')).not.toContain('secret outside the store');
      }
      // The whole image passes this chunk: the answer is cut there (the status line went out already).
      const raw = await rawRequest(server.device, 'GET', '/images/KXP2-2026.11.1.img').catch((e: Error) => e);
      expect(raw instanceof Error ? raw.message : raw.body.toString('latin1')).not.toContain(
        'secret outside the store',
      );
      if (!(raw instanceof Error)) expect(raw.body.length).toBeLessThan(pi.sizeBytes);
    } finally {
      unlinkSync(chunkFile);
      renameSync(`${chunkFile}.real`, chunkFile);
    }
  });
});
