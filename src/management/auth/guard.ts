import type { FastifyRequest } from 'fastify';
import type { HttpServer } from '../../lib/http-server.js';
import type { Role } from '../../protocol/management-api.js';
import { ManagementError } from '../errors.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import { roleAllows, type Principal } from './principal.js';
import { isOriginAllowed, type OriginPolicy } from './request-origin.js';
import { secretsEqual } from './secrets.js';
import type { SessionService } from './sessions.service.js';
import type { TokenService } from './tokens.service.js';

/** Who may call a route: anyone (login, setup) or at least this role. */
export type Access = 'public' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Missing means admin: a route nobody classified is closed, not open. */
    access?: Access;
    /** Dotted action name written to the audit log when the route succeeds (e.g. venue.create). */
    audit?: string;
    /** Also audit failures, as `<audit>-failed` (logins). */
    auditFailures?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
    /** The raw session id from the cookie, when the request was authenticated by one. */
    sessionId: string | undefined;
    csrfToken: string | undefined;
    sessionExpiresAt: string | undefined;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The order of checks on every API request: who is asking (bearer token or session cookie;
 * 401), whether a state-changing request comes from our own page (Origin 403, CSRF token 403),
 * and whether their role allows the route (403). Runs in onRequest, before any body is read.
 */
export function registerGuard(
  app: HttpServer,
  deps: { sessions: SessionService; tokens: TokenService; policy: OriginPolicy },
): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('sessionId', undefined);
  app.decorateRequest('csrfToken', undefined);
  app.decorateRequest('sessionExpiresAt', undefined);

  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access ?? 'admin';
    const changing = !SAFE_METHODS.has(req.method);
    if (
      changing &&
      !isOriginAllowed(
        { origin: req.headers.origin, referer: req.headers.referer },
        `${req.protocol}://${req.host}`,
        deps.policy,
      )
    ) {
      throw new ManagementError(
        'AUTH_ORIGIN',
        `Requests that change something must come from this server's own pages; origin ${req.headers.origin ?? req.headers.referer} is not trusted (see management.trustedOrigins)`,
      );
    }
    if (access === 'public') return;
    await authenticate(req, deps);
    const principal = req.principal!;
    if (changing && principal.via === 'session') {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !secretsEqual(sent, req.csrfToken!)) {
        throw new ManagementError(
          'AUTH_CSRF',
          'Missing or wrong X-CSRF-Token header; reload the page (GET /api/v1/auth/me returns the token)',
        );
      }
    }
    if (!roleAllows(principal.role, access)) {
      throw new ManagementError('AUTH_FORBIDDEN', `This needs the ${access} role; you are ${principal.role}`, {
        needed: access,
        role: principal.role,
      });
    }
  });
}

async function authenticate(
  req: FastifyRequest,
  deps: { sessions: SessionService; tokens: TokenService },
): Promise<void> {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw new ManagementError('AUTH_TOKEN_INVALID', 'Authorization must be "Bearer <API token>"');
    req.principal = await deps.tokens.resolve(match[1]!);
    return;
  }
  const id = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!id) throw new ManagementError('AUTH_REQUIRED', 'Sign in first');
  const session = await deps.sessions.resolve(id);
  req.principal = session.principal;
  req.sessionId = id;
  req.csrfToken = session.csrfToken;
  req.sessionExpiresAt = session.expiresAt;
}

/**
 * For long requests (the live stream): whether the credentials the request came with still stand,
 * without counting as activity. Returns why not, or null.
 */
export async function recheck(
  req: FastifyRequest,
  deps: { sessions: SessionService; tokens: TokenService },
): Promise<string | null> {
  try {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (bearer) await deps.tokens.resolve(bearer[1]!);
    else await deps.sessions.resolve(req.sessionId ?? '', { touch: false });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
