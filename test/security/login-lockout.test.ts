import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, signedIn } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

// Probe 6 of issue 12: five wrong passwords locked a user for 15 minutes even against the right
// password from anywhere, and behind a reverse proxy every user shared the proxy's address.

interface Login {
  status: number;
  retryAfter: number | undefined;
  setCookie: string | undefined;
}

/**
 * Signs in from a chosen loopback address (the whole of 127.0.0.0/8 is this machine), optionally
 * with the headers a reverse proxy adds. No Origin header: a proxy's origin is not the socket's.
 */
function loginFrom(
  server: TestServer,
  from: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Login> {
  const url = new URL(server.management);
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        localAddress: from,
        method: 'POST',
        path: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] === undefined ? undefined : Number(res.headers['retry-after']),
            setCookie: res.headers['set-cookie']?.[0],
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('sign-in delays', () => {
  it('do not hold up the right password from another address after someone else’s failures', async () => {
    server = await startServer();
    await signedIn(server, 'carla', 'operator');
    for (let i = 0; i < 8; i++) await loginFrom(server, '127.0.0.2', 'carla', `guess-${i}`);
    expect((await loginFrom(server, '127.0.0.2', 'carla', PASSWORD)).status).toBe(429);
    expect((await loginFrom(server, '127.0.0.1', 'carla', PASSWORD)).status).toBe(200);
  });

  it('grow from 30 s, doubling with each failure, up to 15 minutes, and end at the right password', async () => {
    let nowMs = Date.parse('2026-12-01T07:00:00Z');
    server = await startServer({ clock: () => new Date(nowMs) });
    await signedIn(server, 'dora', 'viewer');
    for (let i = 0; i < 5; i++) expect((await loginFrom(server, '127.0.0.3', 'dora', `guess-${i}`)).status).toBe(401);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const refused = await loginFrom(server, '127.0.0.3', 'dora', 'next-guess');
      expect(refused.status).toBe(429);
      waits.push(refused.retryAfter!);
      nowMs += refused.retryAfter! * 1000;
      expect((await loginFrom(server, '127.0.0.3', 'dora', `late-guess-${i}`)).status).toBe(401);
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    nowMs += 900_000;
    expect((await loginFrom(server, '127.0.0.3', 'dora', PASSWORD)).status).toBe(200);
    // The right password forgot this pair's failures: a typo now costs no wait.
    expect((await loginFrom(server, '127.0.0.3', 'dora', 'typo')).status).toBe(401);
    expect((await loginFrom(server, '127.0.0.3', 'dora', PASSWORD)).status).toBe(200);
  });
});

describe('management.trustProxy', () => {
  it('takes the client address from X-Forwarded-For of a trusted proxy, so proxied users do not share one count', async () => {
    server = await startServer({ flags: { 'management.trustProxy': ['127.0.0.1'] } });
    await signedIn(server, 'emil', 'viewer');
    const attacker = { 'x-forwarded-for': '198.18.0.66' };
    for (let i = 0; i < 5; i++)
      expect((await loginFrom(server, '127.0.0.1', 'emil', `guess-${i}`, attacker)).status).toBe(401);
    expect((await loginFrom(server, '127.0.0.1', 'emil', PASSWORD, attacker)).status).toBe(429);
    expect((await loginFrom(server, '127.0.0.1', 'emil', PASSWORD, { 'x-forwarded-for': '198.18.0.7' })).status).toBe(
      200,
    );
  });

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    server = await startServer({ flags: { 'management.trustProxy': ['198.18.0.1'] } });
    await signedIn(server, 'finn', 'viewer');
    for (let i = 0; i < 5; i++)
      await loginFrom(server, '127.0.0.1', 'finn', `guess-${i}`, { 'x-forwarded-for': `198.18.1.${i}` });
    expect((await loginFrom(server, '127.0.0.1', 'finn', PASSWORD, { 'x-forwarded-for': '198.18.2.1' })).status).toBe(
      429,
    );
  });

  it('marks the cookie Secure when the trusted proxy says the browser came over https, and not otherwise', async () => {
    server = await startServer({ flags: { 'management.trustProxy': ['127.0.0.1'] } });
    await signedIn(server, 'gina', 'viewer');
    const viaTls = await loginFrom(server, '127.0.0.1', 'gina', PASSWORD, {
      'x-forwarded-for': '198.18.0.9',
      'x-forwarded-proto': 'https',
    });
    expect(viaTls.status).toBe(200);
    expect(viaTls.setCookie).toMatch(/; Secure/);
    const plain = await loginFrom(server, '127.0.0.1', 'gina', PASSWORD, { 'x-forwarded-for': '198.18.0.9' });
    expect(plain.setCookie).not.toMatch(/Secure/);
  });
});
