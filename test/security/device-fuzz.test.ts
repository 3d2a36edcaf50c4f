/**
 * Issue 12 item 10: the device listener under random input (fast-check). Whatever JSON shapes,
 * paths, methods and headers a board (or anything else on the deployment LAN) sends: never a 5xx,
 * never a hang, and a refused request changes nothing in the database.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  anyJson,
  anyMethod,
  bodyOf,
  databaseSnapshot,
  FUZZ_RUNS,
  headersOf,
  param,
  pathOf,
  send,
  shapedObject,
  type FuzzRequest,
} from '../helpers/http-fuzz.js';
import { jsonRequest } from '../helpers/raw-http.js';

let server: TestServer;
let board: { deploymentId: number; token: string };
let imageFile: string;
const work = tempDir('rpi-deploy-fuzz-');

beforeAll(async () => {
  server = await startServer();
  await server.app.fleet.venues.create({ code: 'FUZZ', name: 'Fuzz' });
  await server.app.fleet.pools.import({ venue: 'FUZZ', text: '1-40' });
  const pi = buildPiImage(work.path, { seed: 'device-fuzz' });
  const image = await server.app.images.import({ path: pi.path }, { product: 'KXP2', version: '1', activate: true });
  imageFile = `${image.product}-${image.version}.img`;
  const enrolled = await jsonRequest(server.device, 'POST', '/v1/enroll', {
    serial: '10000001',
    macs: ['d8:3a:dd:00:00:01'],
    storageBytes: 32 * 2 ** 30,
    venue: 'FUZZ',
    product: 'KXP2',
  });
  expect(enrolled.status).toBe(200);
  board = { deploymentId: enrolled.body['deploymentId'] as number, token: enrolled.body['token'] as string };
}, 120_000);
afterAll(async () => {
  await server.stop();
  work.remove();
});

const hex = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: min, maxLength: max });
/** Mostly what a real board sends, now and then something a little off. */
const mostly = <T>(good: fc.Arbitrary<T>, off: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: off });
const serial = mostly(fc.oneof(hex(8, 8), hex(16, 16)), fc.oneof(hex(1, 20), fc.constantFrom('unknown', '10000001')));
const mac = mostly(
  fc.tuple(hex(2, 2), hex(2, 2), hex(2, 2)).map((p) => `d8:3a:dd:${p.join(':')}`),
  fc.constantFrom('d8:3a:dd:00:00:01', 'zz', ''),
);
const product = mostly(fc.constantFrom('KXP2', 'RXP2'), fc.constantFrom('kxp2', 'NOPE', ''));
const venue = mostly(fc.constant('FUZZ'), fc.constantFrom('NONE', 'fuzz', ''));
const phase = fc.constantFrom(
  'downloading',
  'writing',
  'verifying',
  'customizing',
  'starting',
  'success',
  'failed',
  'done',
);
const count = fc.oneof(fc.nat(), fc.integer());

/** Per route, the fields it reads, so that some random bodies get deep into the handlers. */
const bodies = (deploymentId: number): Record<string, fc.Arbitrary<Record<string, unknown>>> => ({
  '/api/config': shapedObject({ product_type: product, venue_code: venue, serial_number: serial, mac_address: mac }),
  '/api/status': shapedObject({
    serial_number: serial,
    status: fc.constantFrom('starting', 'downloading', 'verifying', 'customizing', 'success', 'failed'),
    deployment_id: fc.constantFrom(deploymentId, 1, 999),
    hostname: fc.string({ maxLength: 20 }),
    error_message: fc.string({ maxLength: 50 }),
    timestamp: fc.double(),
  }),
  '/v1/enroll': shapedObject({
    serial,
    macs: fc.array(mac, { maxLength: 3 }),
    storageBytes: count,
    venue,
    product,
    model: fc.string({ maxLength: 20 }),
    bootToken: fc.string({ maxLength: 50 }),
  }),
  [`/v1/deployments/${deploymentId}/progress`]: shapedObject({
    phase,
    bytesDone: count,
    bytesTotal: count,
    rateBytesPerSec: count,
    verifiedChunks: fc.array(count, { maxLength: 5 }),
  }),
  [`/v1/deployments/${deploymentId}/result`]: shapedObject({
    status: fc.constantFrom('success', 'failed'),
    verifyMethod: fc.constantFrom('direct-io', 'drop-caches', 'none'),
    verifiedChunks: fc.array(count, { maxLength: 5 }),
    code: fc.constantFrom('AGENT_WRITE_FAILED', 'x'),
    message: fc.string({ maxLength: 50 }),
  }),
});

const authorization = () =>
  fc.oneof(
    fc.constant(`Bearer ${board.token}`),
    fc.constant(`Bearer ${'A'.repeat(43)}`),
    fc.constant(board.token),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
  );

/** Sends one request and checks the three rules; returns the status for the coverage tally. */
async function check(r: FuzzRequest, seen: Map<number, number>): Promise<void> {
  const before = databaseSnapshot(server.dataDir, { withAudit: true });
  const answer = await send(server.device, r);
  seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
  expect(answer.status, `${r.method} ${r.path} → ${answer.status} ${answer.body.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status >= 400) {
    expect(
      databaseSnapshot(server.dataDir, { withAudit: true }),
      `${r.method} ${r.path} was refused (${answer.status}) but changed the database`,
    ).toBe(before);
  }
}

describe('device listener fuzz', () => {
  it('random JSON bodies on every device POST route: no 5xx, no hang, refused means unchanged', async () => {
    const seen = new Map<number, number>();
    const routes = bodies(board.deploymentId);
    const routeAndBody = fc
      .constantFrom(...Object.keys(routes))
      .chain((path) =>
        fc.tuple(
          fc.constant(path),
          bodyOf(fc.oneof({ weight: 4, arbitrary: routes[path]! }, { weight: 1, arbitrary: anyJson })),
        ),
      );
    await fc.assert(
      fc.asyncProperty(routeAndBody, fc.option(authorization()), async ([path, body], auth) => {
        await check(
          {
            method: 'POST',
            path,
            headers: { 'content-type': 'application/json', ...(auth !== null && { authorization: auth }) },
            ...(body !== undefined && { body }),
          },
          seen,
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
    // The property is only as good as its reach: some requests were accepted, most were refused.
    expect(seen.get(200) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
    expect([...seen.keys()].filter((s) => s >= 400).length).toBeGreaterThan(1);
  }, 300_000);

  it('random methods, paths and headers on every device route: no 5xx, no hang, refused means unchanged', async () => {
    const seen = new Map<number, number>();
    const routes = server.app.servers.device.routeList.map((r) => r.url.replace(':id', String(board.deploymentId)));
    const plausible = fc.constantFrom(
      String(board.deploymentId),
      '0',
      '1',
      '2',
      imageFile,
      'KXP2-1.img',
      'kxp2_master.img',
      'node.tar.zst',
    );
    const path = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...routes).chain((t) => pathOf(t, param(plausible))) },
      {
        weight: 1,
        arbitrary: fc.array(param(plausible), { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        anyMethod,
        path,
        headersOf({ authorization: authorization() }),
        bodyOf(anyJson),
        async (method, p, headers, body) => {
          const withBody = !['GET', 'HEAD'].includes(method) && body !== undefined;
          await check({ method, path: p, headers, ...(withBody && { body }) }, seen);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect([...seen.keys()].some((s) => s < 300)).toBe(true);
  }, 300_000);
});
