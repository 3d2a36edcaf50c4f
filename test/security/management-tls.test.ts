import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { isAppError } from '../../src/lib/errors.js';
import { createLogger } from '../../src/lib/logger.js';
import { PASSWORD, signedIn } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

// Probe 6 of issue 12: the session cookie went out without Secure, because the management
// listener could not serve https itself.

const dir = tempDir('rpi-deploy-tls-');
const cert = join(dir.path, 'cert.pem');
const key = join(dir.path, 'key.pem');
const otherKey = join(dir.path, 'other-key.pem');
let server: TestServer;

function selfSigned(certFile: string, keyFile: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
}

beforeAll(async () => {
  selfSigned(cert, key);
  selfSigned(join(dir.path, 'other-cert.pem'), otherKey);
  server = await startServer({ flags: { 'management.tls.cert': cert, 'management.tls.key': key } });
});
afterAll(async () => {
  await server.stop();
  dir.remove();
});

function httpsLogin(
  base: string,
  username: string,
  password: string,
): Promise<{ status: number; setCookie: string | undefined }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/api/v1/auth/login',
        ca: readFileSync(cert),
        headers: { 'content-type': 'application/json', origin: base },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie']?.[0] }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ username, password }));
  });
}

describe('management.tls', () => {
  it('serves the management API over https with the configured certificate, and the session cookie is Secure', async () => {
    expect(server.management).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { createUserService } = await import('../../src/management/index.js');
    await createUserService({ store: server.app.store, clock: () => new Date() }).create({
      username: 'hana',
      password: PASSWORD,
      role: 'viewer',
    });
    const r = await httpsLogin(server.management, 'hana', PASSWORD);
    expect(r.status).toBe(200);
    expect(r.setCookie).toMatch(/^rpd_session=[^;]+;.*; HttpOnly; SameSite=Strict; .*Secure/);
  });

  it('answers no plain http on the TLS port; the device API stays plain http', async () => {
    const url = new URL(server.management);
    const plain = new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/health' }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });
    await expect(plain).rejects.toThrow();
    expect((await fetch(`${server.device}/health`)).status).toBe(200);
  });

  it.each([
    [
      'a key that does not belong to the certificate',
      () => ({ cert, key: otherKey }),
      /do not make a usable certificate/,
    ],
    [
      'a certificate file that does not exist',
      () => ({ cert: join(dir.path, 'missing.pem'), key }),
      /Cannot read .*missing\.pem/,
    ],
  ])('refuses to start with %s, naming the files', async (_case, files, message) => {
    const { cert: c, key: k } = files();
    const config = loadConfig({
      flags: {
        dataDir: join(dir.path, 'data'),
        'management.listen': '127.0.0.1:0',
        'device.listen': '127.0.0.1:0',
        'management.tls.cert': c,
        'management.tls.key': k,
      },
    });
    const failed = await createApp(config, createLogger('silent')).then(
      async (app) => {
        await app.stop();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(isAppError(failed) && failed.code).toBe('SERVE_TLS_INVALID');
    expect((failed as Error).message).toMatch(message);
  });

  it('is not needed for plain http, where the cookie is not Secure', async () => {
    const plain = await startServer();
    try {
      const c = await signedIn(plain, 'ivan', 'viewer');
      expect(c.cookie).toBeDefined();
      const r = await fetch(`${plain.management}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: plain.management },
        body: JSON.stringify({ username: 'ivan', password: PASSWORD }),
      });
      expect(r.headers.get('set-cookie')).not.toMatch(/Secure/);
    } finally {
      await plain.stop();
    }
  });
});
