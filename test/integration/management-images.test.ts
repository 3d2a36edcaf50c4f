import { createReadStream, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../src/protocol/events.js';
import { signedIn, type ManagementClient } from '../helpers/management-client.js';
import { buildPiImage, compressImage, truncatedCopy, type PiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

let server: TestServer;
let op: ManagementClient;
let viewer: ManagementClient;
let dir: ReturnType<typeof tempDir>;
let pi: PiImage;
let xz: string;

beforeAll(async () => {
  dir = tempDir('rpi-deploy-upload-');
  pi = buildPiImage(dir.path, { seed: 'upload' });
  xz = compressImage(pi.path, 'xz');
  server = await startServer();
  op = await signedIn(server, 'olga', 'operator');
  viewer = await signedIn(server, 'vera', 'viewer');
});
afterAll(async () => {
  await server.stop();
  dir.remove();
});

/** Uploads a file as the browser does: the raw bytes as the body, streamed. */
async function upload(c: ManagementClient, file: string, query: string, type = 'application/octet-stream') {
  const res = await fetch(`${server.management}/api/v1/images?${query}`, {
    method: 'POST',
    headers: {
      cookie: c.cookie!,
      'x-csrf-token': c.csrf!,
      origin: server.management,
      'content-type': type,
      'content-length': String(statSync(file).size),
    },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('image upload', () => {
  it('streams an .xz upload into the store, reports progress as live events, and records it', async () => {
    const progress: FleetEvent[] = [];
    const stop = server.app.events.subscribe((e) => e.type === 'image.progress' && progress.push(e));
    const r = await upload(op, xz, 'product=KXP2&version=2026.11.1&notes=first&filename=kxp2.img.xz&activate=true');
    stop();
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      product: 'KXP2',
      version: '2026.11.1',
      sha256: pi.sha256,
      sizeBytes: pi.sizeBytes,
      active: true,
      notes: 'first',
    });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.data).toMatchObject({ product: 'KXP2', version: '2026.11.1', by: 'olga' });
    const list = await viewer.get<Record<string, unknown>[]>('/api/v1/images?product=KXP2');
    expect(list.body.map((i) => i['version'])).toEqual(['2026.11.1']);
    const audit = await (
      await signedIn(server, 'root', 'admin')
    ).get<{ action: string; target: string }[]>('/api/v1/audit');
    expect(audit.body.map((a) => `${a.action} ${a.target}`)).toContain(`image.upload ${r.body['id'] as number}`);
  });

  it('sanitises an upload when asked, and answers with what each step did', async () => {
    const golden = buildPiImage(dir.path, {
      seed: 'upload-golden',
      plant: { 'etc/machine-id': Buffer.from('0123456789abcdef0123456789abcdef\n') },
    });
    const r = await upload(op, golden.path, 'product=KXP2&version=2026.12.1&sanitise=true&keep=logs&keep=swap');
    expect(r.status).toBe(201);
    const report = r.body['sanitise'] as { steps: { step: string; kept: boolean; emptied: string[] }[] };
    expect(report.steps.filter((s) => s.kept).map((s) => s.step)).toEqual(['logs', 'swap']);
    expect(report.steps.find((s) => s.step === 'machine-id')!.emptied).toEqual(['/etc/machine-id']);
    expect(r.body['sha256']).not.toBe(golden.sha256);

    const unknownStep = await upload(op, golden.path, 'product=KXP2&version=2026.12.2&sanitise=true&keep=hostname');
    expect(unknownStep.status).toBe(400);
    const keepAlone = await upload(op, golden.path, 'product=KXP2&version=2026.12.3&keep=logs');
    expect(keepAlone).toMatchObject({
      status: 400,
      body: { code: 'MANAGEMENT_INPUT_INVALID', error: expect.stringMatching(/only applies with sanitise/) },
    });
  });

  it('compares two images for a viewer: chunks, bytes and the files whose blocks changed', async () => {
    const list = await viewer.get<{ id: number; version: string }[]>('/api/v1/images?product=KXP2');
    const older = list.body.find((i) => i.version === '2026.11.1')!;
    const newer = list.body.find((i) => i.version === '2026.12.1')!;
    const r = await viewer.get<Record<string, unknown>>(`/api/v1/images/${newer.id}/diff?from=${older.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ from: { id: older.id }, to: { id: newer.id }, differingChunks: expect.any(Number) });
    // The two fixtures differ by seed: every generated file's bytes differ.
    const [root] = r.body['partitions'] as { number: number; files: string[] }[];
    expect(root!.files).toEqual(expect.arrayContaining(['/usr/bin/agent-standin', '/usr/lib/libstandin.so']));
    expect((await viewer.get(`/api/v1/images/${newer.id}/diff?from=99999`)).status).toBe(404);
    expect((await viewer.get(`/api/v1/images/${newer.id}/diff`)).status).toBe(400);
  });

  it('refuses duplicates, bad versions, truncated files, wrong content types and viewers, keeping nothing', async () => {
    const truncated = truncatedCopy(xz, Math.floor(statSync(xz).size / 2));
    const cases: [string, Promise<{ status: number; body: Record<string, unknown> }>, number, string][] = [
      ['same bytes again', upload(op, pi.path, 'product=KXP2&version=2026.11.9'), 409, 'IMAGE_DUPLICATE'],
      ['bad version', upload(op, pi.path, 'product=KXP2&version=../../x'), 400, 'REQUEST_INVALID'],
      ['unknown product', upload(op, pi.path, 'product=NOPE&version=1'), 404, 'FLEET_PRODUCT_UNKNOWN'],
      ['truncated xz', upload(op, truncated, 'product=RXP2&version=1'), 400, 'IMAGE_INPUT_CORRUPT'],
      [
        'JSON instead of a file',
        upload(op, truncated, 'product=RXP2&version=2', 'application/json'),
        413,
        'FST_ERR_CTP_BODY_TOO_LARGE',
      ],
      ['viewer', upload(viewer, pi.path, 'product=RXP2&version=3'), 403, 'AUTH_FORBIDDEN'],
    ];
    for (const [name, pending, status, code] of cases) {
      const r = await pending;
      expect([name, r.status, r.body['code']]).toEqual([name, status, code]);
    }
    const noBody = await op.post('/api/v1/images?product=RXP2&version=4');
    expect([noBody.status, noBody.body['code']]).toEqual([415, 'MANAGEMENT_UPLOAD_TYPE']);
    expect((await viewer.get<unknown[]>('/api/v1/images?product=RXP2')).body).toEqual([]);
  });

  it('an upload cut off midway leaves nothing behind', async () => {
    const { port } = new URL(server.management);
    const size = statSync(pi.path).size;
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/images?product=RXP2&version=cut',
        headers: {
          cookie: op.cookie!,
          'x-csrf-token': op.csrf!,
          'content-type': 'application/octet-stream',
          'content-length': String(size),
        },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1024 * 1024, 7));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await viewer.get<unknown[]>('/api/v1/images?product=RXP2')).body).toEqual([]);
  });
});

describe('image records', () => {
  it('show, activate, deactivate, delete (the active one only with force)', async () => {
    const second = buildPiImage(dir.path, { seed: 'second' });
    const b = (await upload(op, second.path, 'product=KXP2&version=2026.11.2')).body as { id: number };
    const a = (await viewer.get<Record<string, unknown>[]>('/api/v1/images?product=KXP2')).body.find(
      (i) => i['version'] === '2026.11.1',
    )! as { id: number };
    expect((await viewer.get(`/api/v1/images/${b['id']}`)).body['sha256']).toBe(second.sha256);
    expect((await op.post(`/api/v1/images/${b['id']}/activate`)).body['active']).toBe(true);
    const active = await op.delete(`/api/v1/images/${b['id']}`);
    expect([active.status, active.body['code']]).toEqual([409, 'IMAGE_ACTIVE']);
    expect((await op.post(`/api/v1/images/${b['id']}/deactivate`)).body['active']).toBe(false);
    expect((await op.delete(`/api/v1/images/${a['id']}`)).status).toBe(204);
    expect((await op.delete(`/api/v1/images/${b['id']}?force=true`)).status).toBe(204);
    expect((await viewer.get(`/api/v1/images/${a['id']}`)).status).toBe(404);
  });
});
