import Type from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '../../lib/http-server.js';
import { LoginRequest, PasswordChange, Session, SetupRequest, SetupStatus } from '../../protocol/management-api.js';
import { ManagementError } from '../errors.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';
import type { LoginLimiter } from './login-limiter.js';
import type { SessionService } from './sessions.service.js';
import type { SetupGate } from './setup.js';
import type { UserService } from './users.service.js';

export interface AuthRouteDeps {
  users: UserService;
  sessions: SessionService;
  limiter: LoginLimiter;
  setup: SetupGate;
  sessionMaxAgeSeconds: number;
}

/** Sign in, sign out, who am I, first-admin setup and changing one's own password. */
export function registerAuthRoutes(app: HttpServer, deps: AuthRouteDeps): void {
  const { users, sessions, limiter, setup } = deps;

  async function startSession(
    req: FastifyRequest,
    reply: FastifyReply,
    user: { id: number; username: string; role: Session['user']['role'] },
  ): Promise<Session> {
    // A fresh id at every sign-in, and the browser's previous session (if any) ends: no fixation.
    const previous = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (previous) await sessions.close(previous);
    const s = await sessions.open(user, req.ip);
    req.principal = s.principal;
    void reply.header('set-cookie', sessionCookie(s.id, deps.sessionMaxAgeSeconds, req.protocol === 'https'));
    return { user: { username: user.username, role: user.role }, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
  }

  app.get(
    '/auth/me',
    { config: { access: 'viewer' }, schema: { tags: ['auth'], response: { 200: Session } } },
    async (req) => ({
      user: { username: req.principal!.username, role: req.principal!.role },
      csrfToken: req.csrfToken ?? '',
      expiresAt: req.sessionExpiresAt ?? new Date(8.64e15).toISOString(),
    }),
  );

  app.post(
    '/auth/login',
    {
      config: { access: 'public', audit: 'auth.login', auditFailures: true },
      schema: { tags: ['auth'], body: LoginRequest, response: { 200: Session } },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      // Counted before the hash, so guesses sent in parallel meet the limit while hashes run.
      const admission = limiter.begin(username, req.ip);
      if (!admission.admitted) {
        const seconds = Math.ceil(admission.retryAfterMs / 1000);
        void reply.header('retry-after', seconds);
        const wait = seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
        throw new ManagementError(
          'AUTH_RATE_LIMITED',
          `Too many failed sign-ins from this address; try again in ${wait}`,
          { retryAfterSeconds: seconds },
        );
      }
      let user;
      try {
        user = await users.authenticate(username, password);
      } catch (err) {
        admission.attempt.settle('abandoned');
        throw err;
      }
      if (!user) {
        admission.attempt.settle('failed');
        throw new ManagementError('AUTH_INVALID', 'Wrong username or password');
      }
      admission.attempt.settle('succeeded');
      return startSession(req, reply, {
        id: user.id,
        username: user.username,
        role: user.role as Session['user']['role'],
      });
    },
  );

  app.post(
    '/auth/logout',
    { config: { access: 'viewer', audit: 'auth.logout' }, schema: { tags: ['auth'], response: { 204: Type.Null() } } },
    async (req, reply) => {
      const id = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (id) await sessions.close(id);
      return reply
        .header('set-cookie', clearedSessionCookie(req.protocol === 'https'))
        .code(204)
        .send(null);
    },
  );

  app.get(
    '/auth/setup',
    { config: { access: 'public' }, schema: { tags: ['auth'], response: { 200: SetupStatus } } },
    async () => ({ needed: (await users.count()) === 0 }),
  );

  app.post(
    '/auth/setup',
    {
      config: { access: 'public', audit: 'auth.setup', auditFailures: true },
      schema: { tags: ['auth'], body: SetupRequest, response: { 200: Session } },
    },
    async (req, reply) => {
      if ((await users.count()) > 0)
        throw new ManagementError('AUTH_SETUP_DONE', 'The first admin already exists; sign in instead');
      // Claimed before the user is created, so two requests with the token cannot make two admins.
      const release = setup.claim(req.body.setupToken);
      if (!release) {
        throw new ManagementError(
          'AUTH_SETUP_TOKEN_INVALID',
          'Wrong setup token; use the one printed when the server started (or run: rpi-deploy user add NAME --admin)',
        );
      }
      try {
        await users.create({ username: req.body.username, password: req.body.password, role: 'admin' });
      } catch (err) {
        release();
        throw err;
      }
      const user = (await users.authenticate(req.body.username, req.body.password))!;
      return startSession(req, reply, { id: user.id, username: user.username, role: 'admin' });
    },
  );

  app.post(
    '/auth/password',
    {
      config: { access: 'viewer', audit: 'auth.password' },
      schema: { tags: ['auth'], body: PasswordChange, response: { 204: Type.Null() } },
    },
    async (req, reply) => {
      const me = req.principal!;
      if (me.via !== 'session')
        throw new ManagementError('AUTH_FORBIDDEN', 'An API token cannot change a password; sign in as the user');
      if (!(await users.authenticate(me.username, req.body.currentPassword)))
        throw new ManagementError('AUTH_PASSWORD_WRONG', 'The current password is wrong');
      await users.update(me.username, { password: req.body.newPassword }, me.sessionHash);
      return reply.code(204).send(null);
    },
  );
}
