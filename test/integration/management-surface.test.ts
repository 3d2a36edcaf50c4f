import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementClient, signedIn } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

let server: TestServer;
let ui: ReturnType<typeof tempDir>;
let dist: string;

beforeAll(async () => {
  ui = tempDir('rpi-deploy-ui-');
  dist = join(ui.path, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(ui.path, 'secret.txt'), 'outside the UI root');
  writeFileSync(
    join(dist, 'index.html'),
    '<!doctype html><title>rpi-deploy</title><script type="module" src="/assets/app-3f9a.js"></script>',
  );
  writeFileSync(join(dist, 'assets', 'app-3f9a.js'), 'console.log("app")');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  server = await startServer({ flags: { 'management.uiDir': dist } });
});
afterAll(async () => {
  await server.stop();
  ui.remove();
});

/** Every API route as METHOD + concrete path, parameters filled with harmless values. */
function apiRoutes(): { method: string; url: string; path: string; access: string }[] {
  return server.app.servers.management.routeList
    .filter((r) => r.url.startsWith('/api/v1/'))
    .map((r) => ({
      method: r.method,
      url: r.url,
      path: r.url
        .replace(':code', 'CORO')
        .replace(':id', '1')
        .replace(':hostname', 'KXP2-CORO-001')
        .replace(':serial', '10000001')
        .replace(':username', 'nobody'),
      access: (r.config['access'] as string | undefined) ?? 'admin',
    }));
}

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and describes every API route with its role', async () => {
    const r = await fetch(`${server.management}/api/v1/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { 'x-required-role': string }>>;
    };
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');

    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op['x-required-role']}`),
    );
    const registered = apiRoutes().map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')} ${r.access}`);
    expect(documented.sort()).toEqual(registered.sort());
    expect(registered.length).toBeGreaterThan(40);
  });
});

describe('every API route', () => {
  it('answers 401 without credentials, except the public ones', async () => {
    const c = new ManagementClient(server.management);
    for (const r of apiRoutes().filter((x) => x.access !== 'public')) {
      const res = await c.request(r.method, r.path);
      expect(`${r.method} ${r.url} → ${res.status} ${res.body['code'] as string}`).toBe(
        `${r.method} ${r.url} → 401 AUTH_REQUIRED`,
      );
    }
  });

  it('answers 403 to a role below the route’s, before reading any input', async () => {
    const viewer = await signedIn(server, 'vera', 'viewer');
    const operator = await signedIn(server, 'olga', 'operator');
    const checked: string[] = [];
    for (const r of apiRoutes()) {
      const tooLow = r.access === 'admin' ? [viewer, operator] : r.access === 'operator' ? [viewer] : [];
      for (const c of tooLow) {
        const res = await c.request(r.method, r.path);
        expect(`${r.method} ${r.url} → ${res.status} ${res.body['code'] as string}`).toBe(
          `${r.method} ${r.url} → 403 AUTH_FORBIDDEN`,
        );
      }
      if (tooLow.length > 0) checked.push(r.url);
    }
    expect(checked.length).toBeGreaterThan(20);
  });

  it('with a session, refuses every state-changing route without the CSRF token (403)', async () => {
    const admin = await signedIn(server, 'root', 'admin');
    for (const r of apiRoutes().filter((x) => x.method !== 'GET' && x.access !== 'public')) {
      const res = await admin.request(r.method, r.path, { csrf: null });
      expect(`${r.method} ${r.url} → ${res.status} ${res.body['code'] as string}`).toBe(
        `${r.method} ${r.url} → 403 AUTH_CSRF`,
      );
    }
  });
});

describe('listener separation', () => {
  it('the device listener knows no management route', async () => {
    for (const r of apiRoutes()) {
      const res = await fetch(`${server.device}${r.path}`, { method: r.method });
      expect(`${r.method} ${r.url} → ${res.status}`).toBe(`${r.method} ${r.url} → 404`);
      expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
    }
    for (const path of ['/', '/index.html', '/assets/app-3f9a.js', '/venues'])
      expect((await fetch(`${server.device}${path}`, { headers: { accept: 'text/html' } })).status).toBe(404);
  });

  it('the management listener knows no device route (except the shared /health)', async () => {
    const deviceRoutes = server.app.servers.device.routeList.filter((r) => r.url !== '/health');
    expect(deviceRoutes.length).toBeGreaterThan(0);
    for (const r of deviceRoutes) {
      const path = r.url.replace(/:(\w+)/g, 'x').replace('*', 'x');
      const res = await fetch(`${server.management}${path}`, {
        method: r.method,
        ...(r.method !== 'GET' && {
          headers: { 'content-type': 'application/json' },
          body: '{"serial_number":"10000001","product_type":"RXP2","venue_code":"CORO"}',
        }),
      });
      expect(`${r.method} ${r.url} → ${res.status}`).toBe(`${r.method} ${r.url} → 404`);
    }
  });
});

function rawGet(path: string): Promise<number> {
  const { port } = new URL(server.management);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { accept: '*/*' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web UI', () => {
  const get = (path: string, accept = 'text/html') => fetch(`${server.management}${path}`, { headers: { accept } });

  it('serves index.html at / and for client routes, with a self-only CSP and no-cache', async () => {
    for (const path of ['/', '/venues/CORO', '/deployments']) {
      const r = await get(path);
      expect([path, r.status]).toEqual([path, 200]);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(await r.text()).toContain('<title>rpi-deploy</title>');
    }
    const csp = (await get('/')).headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    expect((await get('/api/v1/openapi.json', '*/*')).headers.get('content-security-policy')).toBe(csp);
  });

  it('serves hashed assets as immutable and other files for revalidation', async () => {
    const js = await get('/assets/app-3f9a.js', '*/*');
    expect([js.status, js.headers.get('content-type'), js.headers.get('cache-control')]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
    const svg = await get('/favicon.svg', '*/*');
    expect([svg.status, svg.headers.get('content-type'), svg.headers.get('cache-control')]).toEqual([
      200,
      'image/svg+xml',
      'no-cache',
    ]);
  });

  it('answers 404, not the app, for missing files, API paths and paths outside the UI', async () => {
    for (const path of ['/missing.png', '/assets/nope.js', '/api/v1/nope', '/api/nope', '/..%2f..%2fetc%2fpasswd']) {
      const r = await get(path);
      expect([path, r.status]).toEqual([path, 404]);
    }
    // fetch would normalise these; a raw request sends them as an attacker would.
    for (const path of [
      '/%2e%2e/secret.txt',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
    ]) {
      expect([path, await rawGet(path)]).toEqual([path, 404]);
    }
    expect((await get('/venues', 'application/json')).status).toBe(404);
    expect((await get('/%E0%A4%A')).status).toBe(400);
  });

  it('says plainly when the UI has not been built', async () => {
    const other = await startServer({ flags: { 'management.uiDir': join(ui.path, 'absent') } });
    try {
      const r = await fetch(`${other.management}/`, { headers: { accept: 'text/html' } });
      expect(r.status).toBe(503);
      expect(await r.text()).toMatch(/^UI not built: run npm run build/);
    } finally {
      await other.stop();
    }
  });
});
