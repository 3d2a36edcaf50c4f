import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementClient, PASSWORD, signedIn } from '../helpers/management-client.js';
import { startServer, type TestServer } from '../helpers/start-server.js';

let server: TestServer;
let nowMs = Date.parse('2026-11-22T07:00:00Z');
const advance = (minutes: number) => (nowMs += minutes * 60_000);

beforeAll(async () => {
  server = await startServer({
    clock: () => new Date(nowMs),
    flags: { 'management.trustedOrigins': ['https://deploy.example.org'] },
  });
});
afterAll(() => server.stop());

const anonymous = () => new ManagementClient(server.management);

describe('first admin', () => {
  it('is created once, with the one-time setup token printed at start, never a default password', async () => {
    const c = anonymous();
    expect((await c.get('/api/v1/auth/setup')).body).toEqual({ needed: true });
    expect(server.setupToken).toMatch(/^setup_/);
    expect((await c.login('admin', 'admin')).status).toBe(401);

    const wrong = await c.post('/api/v1/auth/setup', {
      setupToken: 'setup_guess',
      username: 'root',
      password: PASSWORD,
    });
    expect([wrong.status, wrong.body['code']]).toEqual([403, 'AUTH_SETUP_TOKEN_INVALID']);

    const weak = await c.post('/api/v1/auth/setup', {
      setupToken: server.setupToken,
      username: 'root',
      password: 'rootroot-root',
    });
    expect([weak.status, weak.body['code']]).toEqual([400, 'AUTH_PASSWORD_WEAK']);
    // Two at once with the token: one admin is made, the other is refused.
    const other = anonymous();
    const [ok, raced] = await Promise.all([
      c.post('/api/v1/auth/setup', { setupToken: server.setupToken, username: 'Root', password: PASSWORD }),
      other.post('/api/v1/auth/setup', { setupToken: server.setupToken, username: 'racer', password: PASSWORD }),
    ]);
    expect([ok.status, raced.status].sort()).toEqual([200, 403]);
    const [winner, name] = ok.status === 200 ? [c, 'root'] : [other, 'racer'];
    expect((ok.status === 200 ? ok : raced).body['user']).toEqual({ username: name, role: 'admin' });
    expect(winner.cookie).toBeDefined();
    expect((await winner.get('/api/v1/auth/me')).body['user']).toEqual({ username: name, role: 'admin' });
    expect((await server.app.store.db.selectFrom('users').select('username').execute()).map((u) => u.username)).toEqual(
      [name],
    );

    const again = await anonymous().post('/api/v1/auth/setup', {
      setupToken: server.setupToken,
      username: 'evil',
      password: PASSWORD,
    });
    expect([again.status, again.body['code']]).toEqual([409, 'AUTH_SETUP_DONE']);
    expect((await c.get('/api/v1/auth/setup')).body).toEqual({ needed: false });
  });
});

describe('sign-in and sessions', () => {
  it('sets an HttpOnly SameSite=Strict cookie and answers with the CSRF token', async () => {
    await signedIn(server, 'olga', 'operator');
    const c = anonymous();
    const r = await c.post('/api/v1/auth/login', { username: 'olga', password: PASSWORD });
    expect(r.status).toBe(200);
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^rpd_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(r.body).toMatchObject({ user: { username: 'olga', role: 'operator' }, csrfToken: expect.any(String) });
    // The database holds only a hash of the session id.
    const id = cookie.split(';')[0]!.split('=')[1]!;
    const rows = await server.app.store.db.selectFrom('sessions').select('id_hash').execute();
    expect(rows.some((row) => row.id_hash === id)).toBe(false);
  });

  it('gives a new session id at every sign-in and ends the browser’s previous one', async () => {
    const c = await signedIn(server, 'olga', 'operator');
    const before = c.cookie;
    expect((await c.login('olga', PASSWORD)).status).toBe(200);
    expect(c.cookie).not.toBe(before);
    const old = anonymous();
    old.cookie = before;
    expect((await old.get('/api/v1/auth/me')).status).toBe(401);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const unknown = await anonymous().login('nobody', PASSWORD);
    const wrong = await anonymous().login('olga', 'not the password');
    expect([unknown.status, unknown.body['code'], wrong.status, wrong.body['code']]).toEqual([
      401,
      'AUTH_INVALID',
      401,
      'AUTH_INVALID',
    ]);
    expect(unknown.body['error']).toBe(wrong.body['error']);
  });

  it('answers 401 without a session, on reads and writes', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/auth/me'],
      ['GET', '/api/v1/venues'],
      ['POST', '/api/v1/venues'],
      ['GET', '/api/v1/events'],
      ['GET', '/api/v1/system'],
    ] as const) {
      const r = await anonymous().request(method, path, method === 'POST' ? { body: { code: 'X', name: 'x' } } : {});
      expect([path, r.status, r.body['code']]).toEqual([path, 401, 'AUTH_REQUIRED']);
    }
    const forged = anonymous();
    forged.cookie = 'rpd_session=forged';
    expect((await forged.get('/api/v1/venues')).status).toBe(401);
  });

  it('ends a session after the idle time, without sleeping', async () => {
    const c = await signedIn(server, 'idle', 'viewer');
    advance(119);
    expect((await c.get('/api/v1/venues')).status).toBe(200);
    advance(119);
    expect((await c.get('/api/v1/venues')).status).toBe(200);
    advance(121);
    const r = await c.get('/api/v1/venues');
    expect([r.status, r.body['code']]).toEqual([401, 'AUTH_SESSION_EXPIRED']);
  });

  it('ends a session at its absolute lifetime even while it is used', async () => {
    const c = await signedIn(server, 'busy', 'viewer');
    for (let hours = 0; hours < 11; hours++) {
      advance(60);
      expect((await c.get('/api/v1/venues')).status).toBe(200);
    }
    advance(61);
    expect((await c.get('/api/v1/venues')).body['code']).toBe('AUTH_SESSION_EXPIRED');
  });

  it('logs out: the cookie is cleared and the old session id no longer works', async () => {
    const c = await signedIn(server, 'leaver', 'viewer');
    const cookie = c.cookie;
    const r = await c.post('/api/v1/auth/logout');
    expect(r.status).toBe(204);
    expect(r.headers.get('set-cookie')).toMatch(/^rpd_session=; .*Max-Age=0/);
    const old = anonymous();
    old.cookie = cookie;
    expect((await old.get('/api/v1/auth/me')).status).toBe(401);
  });
});

describe('state-changing requests', () => {
  it('need the CSRF token of the session: missing or wrong → 403', async () => {
    const c = await signedIn(server, 'olga', 'operator');
    const missing = await c.post('/api/v1/venues', { code: 'CSRF', name: 'x' }, { csrf: null });
    const wrong = await c.post('/api/v1/venues', { code: 'CSRF', name: 'x' }, { csrf: 'x'.repeat(43) });
    const other = await signedIn(server, 'otto', 'operator');
    const foreign = await c.post('/api/v1/venues', { code: 'CSRF', name: 'x' }, { csrf: other.csrf! });
    for (const r of [missing, wrong, foreign]) expect([r.status, r.body['code']]).toEqual([403, 'AUTH_CSRF']);
    expect((await c.post('/api/v1/venues', { code: 'CSRF', name: 'x' })).status).toBe(201);
    expect((await c.get('/api/v1/venues/CSRF')).status).toBe(200);
  });

  it('must come from our own origin or a trusted one: wrong Origin or Referer → 403', async () => {
    const c = await signedIn(server, 'olga', 'operator');
    const evil = await c.post('/api/v1/venues', { code: 'ORIG', name: 'x' }, { origin: 'http://evil.example' });
    expect([evil.status, evil.body['code']]).toEqual([403, 'AUTH_ORIGIN']);
    const referer = await c.post(
      '/api/v1/venues',
      { code: 'ORIG', name: 'x' },
      { origin: null, headers: { referer: 'http://evil.example/page' } },
    );
    expect([referer.status, referer.body['code']]).toEqual([403, 'AUTH_ORIGIN']);
    const login = await anonymous().post(
      '/api/v1/auth/login',
      { username: 'olga', password: PASSWORD },
      { origin: 'http://evil.example' },
    );
    expect([login.status, login.body['code']]).toEqual([403, 'AUTH_ORIGIN']);
    expect(
      (await c.post('/api/v1/venues', { code: 'ORIG', name: 'x' }, { origin: 'https://deploy.example.org' })).status,
    ).toBe(201);
  });

  it('refuses a Host name that is not ours (DNS rebinding) → 403', async () => {
    const { port } = new URL(server.management);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/api/v1/auth/setup', headers: { host: `attacker.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('are refused to a viewer (403) but reads are allowed', async () => {
    const v = await signedIn(server, 'vera', 'viewer');
    expect((await v.get('/api/v1/venues')).status).toBe(200);
    const r = await v.post('/api/v1/venues', { code: 'VIEW', name: 'x' });
    expect([r.status, r.body['code']]).toEqual([403, 'AUTH_FORBIDDEN']);
    expect((await v.get('/api/v1/users')).status).toBe(403);
  });
});

describe('login rate limit', () => {
  it('holds up a username from one address after 5 failures, even for the right password, then lets it in after the wait', async () => {
    await signedIn(server, 'target', 'viewer');
    const c = anonymous();
    for (let i = 0; i < 5; i++) expect((await c.login('target', `wrong-${i}`)).status).toBe(401);
    const locked = await c.login('target', PASSWORD);
    expect([locked.status, locked.body['code']]).toEqual([429, 'AUTH_RATE_LIMITED']);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    advance(16);
    expect((await c.login('target', PASSWORD)).status).toBe(200);
  });

  it('holds up an address after 20 failures whatever the usernames, then lets it in after the wait', async () => {
    advance(61); // the failures of the tests before are forgotten after an hour without a new one
    const c = anonymous();
    for (let i = 0; i < 20; i++) expect((await c.login(`spray${i}`, 'guess')).status).toBe(401);
    expect((await c.login('olga', PASSWORD)).status).toBe(429);
    advance(16);
    expect((await c.login('olga', PASSWORD)).status).toBe(200);
  });
});

describe('API tokens', () => {
  it('are shown once, work without CSRF, keep to their role, and stop working when revoked or expired', async () => {
    const admin = await signedIn(server, 'root', 'admin');
    const created = await admin.post<{ token: { id: number; role: string }; secret: string }>('/api/v1/tokens', {
      name: 'ci',
      role: 'operator',
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^rpd_/);
    const list = await admin.get('/api/v1/tokens');
    expect(list.text).not.toContain(created.body.secret);
    const stored = await server.app.store.db.selectFrom('api_tokens').select('secret_hash').execute();
    expect(stored.map((s) => s.secret_hash)).not.toContain(created.body.secret);

    const bot = anonymous();
    bot.bearer = created.body.secret;
    expect((await bot.post('/api/v1/venues', { code: 'TOKN', name: 'by token' }, { origin: null })).status).toBe(201);
    expect((await bot.get('/api/v1/auth/me')).body['user']).toEqual({ username: 'root', role: 'operator' });
    expect((await bot.get('/api/v1/users')).status).toBe(403);
    const after = (await admin.get<{ id: number; lastUsedAt: string | null }[]>('/api/v1/tokens')).body.find(
      (t) => t.id === created.body.token.id,
    );
    expect(after?.lastUsedAt).not.toBeNull();

    expect((await admin.delete(`/api/v1/tokens/${created.body.token.id}`)).status).toBe(200);
    const revoked = await bot.get('/api/v1/venues');
    expect([revoked.status, revoked.body['code']]).toEqual([401, 'AUTH_TOKEN_INVALID']);

    const short = await admin.post<{ secret: string }>('/api/v1/tokens', {
      name: 'short',
      role: 'viewer',
      expiresInDays: 1,
    });
    bot.bearer = short.body.secret;
    expect((await bot.get('/api/v1/venues')).status).toBe(200);
    advance(24 * 60 + 1);
    expect((await bot.get('/api/v1/venues')).status).toBe(401);
    bot.bearer = 'rpd_made-up';
    expect((await bot.get('/api/v1/venues')).status).toBe(401);
  });

  it('cannot outrank the admin who made them once that admin is demoted', async () => {
    const admin = await signedIn(server, 'root', 'admin');
    await signedIn(server, 'temp', 'admin');
    const tempClient = await signedIn(server, 'temp', 'admin');
    const t = await tempClient.post<{ secret: string }>('/api/v1/tokens', { name: 'temp-token', role: 'admin' });
    expect((await admin.patch('/api/v1/users/temp', { role: 'viewer' })).status).toBe(200);
    const bot = anonymous();
    bot.bearer = t.body.secret;
    expect((await bot.get('/api/v1/users')).status).toBe(403);
    expect((await bot.get('/api/v1/venues')).status).toBe(200);
  });
});

describe('users', () => {
  it('are managed by admins: create, change role and password, delete; the last admin stays', async () => {
    const admin = await signedIn(server, 'root', 'admin');
    const created = await admin.post('/api/v1/users', { username: 'Nina', password: PASSWORD, role: 'viewer' });
    expect([created.status, created.body['username'], created.body['role']]).toEqual([201, 'nina', 'viewer']);
    expect(
      (await admin.post('/api/v1/users', { username: 'nina', password: PASSWORD, role: 'viewer' })).body['code'],
    ).toBe('AUTH_USER_EXISTS');
    expect(
      (await admin.post('/api/v1/users', { username: 'weak', password: 'aaaaaaaaaaaa', role: 'viewer' })).body['code'],
    ).toBe('AUTH_PASSWORD_WEAK');
    expect((await admin.post('/api/v1/users', { username: 'short', password: 'x', role: 'viewer' })).status).toBe(400);
    expect(
      (await admin.post('/api/v1/users', { username: 'bad name!', password: PASSWORD, role: 'viewer' })).body['code'],
    ).toBe('AUTH_USERNAME_INVALID');
    expect((await admin.post('/api/v1/users', { username: 'x1', password: PASSWORD, role: 'root' })).status).toBe(400);

    const nina = new ManagementClient(server.management);
    expect((await nina.login('nina', PASSWORD)).status).toBe(200);
    expect((await admin.patch('/api/v1/users/nina', { password: 'another long secret' })).status).toBe(200);
    expect((await nina.get('/api/v1/venues')).status).toBe(401);
    expect((await admin.patch('/api/v1/users/nina', { role: 'operator' })).body['role']).toBe('operator');
    expect((await admin.delete('/api/v1/users/nina')).status).toBe(204);
    expect((await admin.delete('/api/v1/users/nina')).body['code']).toBe('AUTH_USER_UNKNOWN');

    for (const u of (await admin.get<{ username: string; role: string }[]>('/api/v1/users')).body) {
      if (u.role === 'admin' && u.username !== 'root')
        await admin.patch(`/api/v1/users/${u.username}`, { role: 'viewer' });
    }
    expect((await admin.patch('/api/v1/users/root', { role: 'viewer' })).body['code']).toBe('AUTH_LAST_ADMIN');
    expect((await admin.delete('/api/v1/users/root')).body['code']).toBe('AUTH_LAST_ADMIN');
  });

  it('change their own password; their other sessions end, this one stays', async () => {
    const a = await signedIn(server, 'pat', 'viewer');
    const b = await signedIn(server, 'pat', 'viewer');
    const wrong = await a.post('/api/v1/auth/password', { currentPassword: 'nope', newPassword: 'a brand new secret' });
    expect([wrong.status, wrong.body['code']]).toEqual([403, 'AUTH_PASSWORD_WRONG']);
    expect(
      (await a.post('/api/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'a brand new secret' })).status,
    ).toBe(204);
    expect((await a.get('/api/v1/auth/me')).status).toBe(200);
    expect((await b.get('/api/v1/auth/me')).status).toBe(401);
    expect((await anonymous().login('pat', 'a brand new secret')).status).toBe(200);
  });
});
