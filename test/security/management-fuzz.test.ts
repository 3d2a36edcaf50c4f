/**
 * Issue 12 item 10: the management listener under random input (fast-check), signed in with the
 * CSRF token, signed in without it, and not signed in at all. Never a 5xx, never a hang; a refused
 * request changes nothing; and without a session (or without CSRF) nothing changes at all.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { signedIn, type ManagementClient } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

let server: TestServer;
let admin: ManagementClient;
let templates: { method: string; url: string; access: string }[];

/** Changing these would end or change the fuzzing session itself; they are fuzzed without one. */
const OWN_SESSION = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/auth/password']);

beforeAll(async () => {
  server = await startServer();
  admin = await signedIn(server, 'fuzzadmin', 'admin');
  await server.app.fleet.venues.create({ code: 'FUZZ', name: 'Fuzz' });
  await server.app.fleet.pools.import({ venue: 'FUZZ', text: '1-20' });
  await server.app.fleet.enrollment.enroll({ serial: '20000001', venue: 'FUZZ', product: 'KXP2' });
  templates = server.app.servers.management.routeList.map((r) => ({
    method: r.method,
    url: r.url,
    access: String((r.config['access'] as string | undefined) ?? 'public'),
  }));
}, 60_000);
afterAll(() => server.stop());

const plausible = fc.constantFrom(
  'FUZZ',
  'NOPE',
  'KXP2',
  'RXP2',
  '1',
  '2',
  '999',
  '20000001',
  'KXP2-FUZZ-001',
  'viewer1',
  'nobody',
);
const mostly = <T>(good: fc.Arbitrary<T>, off: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: off });
const letters = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'), minLength: n, maxLength: n });
const text = mostly(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom('', 'x'.repeat(300)));
const role = mostly(fc.constantFrom('admin', 'operator', 'viewer'), fc.constantFrom('root', ''));
const password = mostly(
  fc.constantFrom('correct horse battery', 'another long passphrase 9'),
  fc.constantFrom('short', 'aaaaaaaaaaaa', ''),
);

/** Per route (METHOD and template), the body it reads, so that random bodies get into the handlers. */
const BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'POST /api/v1/venues': shapedObject({
    code: mostly(letters(4), fc.constantFrom('FUZZ', 'ab', '')),
    name: text,
    location: text,
    contact: text,
  }),
  'PATCH /api/v1/venues/:code': shapedObject({ name: text, location: text, contact: text }),
  'POST /api/v1/products': shapedObject({
    code: mostly(letters(4), fc.constantFrom('KXP2', '')),
    name: text,
    hostnamePattern: fc.constantFrom('{product}-{venue}-{number:3}', 'X-{venue}-{serial}', '{x}', ''),
  }),
  'POST /api/v1/venues/:code/pool/import': shapedObject({
    product: fc.constantFrom('KXP2', 'RXP2', 'NOPE'),
    text: fc.constantFrom('21-25', '1-100000', 'x', '30,31,abc', 'kart_number\n40\n41'),
    dryRun: fc.boolean(),
  }),
  'POST /api/v1/batches': shapedObject({
    venue: fc.constantFrom('FUZZ', 'NOPE'),
    product: fc.constantFrom('KXP2', 'RXP2'),
    expectedCount: fc.integer({ min: -5, max: 50 }),
    priority: fc.integer({ min: -5, max: 5 }),
    name: text,
  }),
  'POST /api/v1/users': shapedObject({
    username: mostly(fc.constantFrom('viewer1', 'op2', 'fuzzadmin'), fc.constantFrom('A', '', '../x')),
    password,
    role,
  }),
  'PATCH /api/v1/users/:username': shapedObject({ role, password }),
  'POST /api/v1/tokens': shapedObject({ name: text, role, expiresInDays: fc.integer({ min: -1, max: 4000 }) }),
  'POST /api/v1/auth/login': shapedObject({
    username: fc.constantFrom('fuzzadmin', 'nobody'),
    password: fc.string({ maxLength: 20 }),
  }),
  'POST /api/v1/auth/setup': shapedObject({
    setupToken: fc.string({ maxLength: 40 }),
    username: fc.constantFrom('first', 'fuzzadmin'),
    password,
  }),
  'POST /api/v1/auth/password': shapedObject({ currentPassword: fc.string({ maxLength: 20 }), newPassword: password }),
};
const anyBody = shapedObject({ code: text, name: text, venue: text, product: text, username: text, role, text });

/** Any route, the ones that take a body more often (they are where state changes). */
const route = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...templates.filter((t) => BODIES[`${t.method} ${t.url}`])) },
    { weight: 2, arbitrary: fc.constantFrom(...templates) },
  );

const request = (extra: Record<string, fc.Arbitrary<string>>) =>
  fc
    .tuple(
      fc.oneof(
        { weight: 5, arbitrary: route().chain((t) => fc.tuple(pathOf(t.url, param(plausible)), fc.constant(t))) },
        {
          weight: 1,
          arbitrary: fc
            .array(param(plausible), { minLength: 1, maxLength: 5 })
            .map((parts) => [`/api/v1/${parts.join('/')}`, undefined] as const),
        },
      ),
      fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyMethod }),
      headersOf(extra),
    )
    .chain(([[path, route], otherMethod, headers]) => {
      const method = otherMethod ?? route?.method ?? 'GET';
      const shaped = (route && method === route.method && BODIES[`${route.method} ${route.url}`]) || anyBody;
      return bodyOf(fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: anyJson })).map(
        (body): FuzzRequest => ({
          method,
          path,
          headers,
          ...(!['GET', 'HEAD'].includes(method) && body !== undefined && { body }),
        }),
      );
    });

/**
 * Sends one request. Always: below 500, answered in time. A refusal leaves the database as it was
 * (with the audit trail, except for sign-in attempts, whose failures are audited on purpose);
 * `mayChange: false` holds the database still whatever the answer.
 */
async function check(r: FuzzRequest, o: { mayChange: boolean }, seen: Map<number, number>): Promise<void> {
  const signIn = /^\/api\/v1\/auth\/(login|setup)\b/.test(r.path);
  const before = databaseSnapshot(server.dataDir, { withAudit: !signIn });
  const answer = await send(server.management, r);
  seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
  const what = `${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body?.slice(0, 200) ?? ''} → ${answer.status} ${answer.body.slice(0, 300)}`;
  expect(answer.status, what).toBeLessThan(500);
  if (answer.status >= 400 || !o.mayChange)
    expect(databaseSnapshot(server.dataDir, { withAudit: !signIn }), `changed the database: ${what}`).toBe(before);
}

describe('management listener fuzz', () => {
  it('signed in as admin with the CSRF token: no 5xx, no hang, refused means unchanged', async () => {
    const seen = new Map<number, number>();
    const session = {
      cookie: fc.constant(admin.cookie!),
      'x-csrf-token': fc.constant(admin.csrf!),
      origin: fc.constant(server.management),
    };
    await fc.assert(
      fc.asyncProperty(
        request(session).map((r): FuzzRequest => ({
          ...r,
          headers: { ...r.headers, cookie: admin.cookie!, 'x-csrf-token': admin.csrf!, origin: server.management },
        })),
        async (r) => {
          const route = templates.find(
            (t) => t.method === r.method && new RegExp(`^${t.url.replace(/:[^/]+/g, '[^/?]+')}([?#]|$)`).test(r.path),
          );
          if (route && OWN_SESSION.has(`${route.method} ${route.url}`)) return;
          await check(r, { mayChange: true }, seen);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect([...seen.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect([...seen.keys()].filter((s) => s >= 400).length).toBeGreaterThan(1);
    // The session survived the whole run.
    expect((await admin.get('/api/v1/auth/me')).status).toBe(200);
  }, 300_000);

  it('signed in without CSRF token or with a foreign origin: nothing changes', async () => {
    const seen = new Map<number, number>();
    const forged = {
      'x-csrf-token': fc.oneof(
        fc.string({ maxLength: 43 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x')),
        fc.constant(`${admin.csrf!}x`),
      ),
      origin: fc.constantFrom('http://evil.example', 'null', server.management.replace('127.0.0.1', 'localhost')),
    };
    await fc.assert(
      fc.asyncProperty(
        request(forged)
          .filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method))
          .map((r): FuzzRequest => ({ ...r, headers: { ...r.headers, cookie: admin.cookie! } })),
        async (r) => {
          // A cookie alone never carries a change: the CSRF token or a trusted origin is missing.
          if (r.headers['x-csrf-token'] === admin.csrf && r.headers['origin'] === server.management) return;
          if (/^\/api\/v1\/auth\/(login|setup)\b/.test(r.path)) return;
          await check(r, { mayChange: false }, seen);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect((await admin.get('/api/v1/auth/me')).status).toBe(200);
  }, 300_000);

  it('not signed in, whatever cookie, token and headers: no 5xx, no hang, and nothing changes', async () => {
    const seen = new Map<number, number>();
    const anonymous = {
      cookie: fc.oneof(
        fc.constant('rpd_session=forged'),
        fc.string({ maxLength: 60 }).map((s) => `rpd_session=${encodeURIComponent(s)}`),
      ),
      authorization: fc.oneof(
        fc.constant('Bearer rpd_forged'),
        fc.string({ maxLength: 60 }).map((s) => `Bearer ${encodeURIComponent(s)}`),
      ),
      'x-csrf-token': fc.string({ maxLength: 43 }).map((s) => encodeURIComponent(s)),
      origin: fc.constant(server.management),
      host: fc.constantFrom('evil.example', '127.0.0.1', 'localhost:1'),
    };
    await fc.assert(
      fc.asyncProperty(request(anonymous), async (r) => {
        await check(r, { mayChange: false }, seen);
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(seen.get(401) ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
