import type { HttpServer } from '../lib/http-server.js';
import { ManagementError } from './errors.js';
import { isHostAllowed, type OriginPolicy } from './auth/request-origin.js';

/**
 * Everything the management listener answers carries these; the UI loads nothing from anywhere
 * but this server (no CDN: the deployment station may have no internet).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Refuses requests whose Host is not ours (DNS rebinding) and sets the security headers. */
export function registerSecurityHeaders(app: HttpServer, policy: OriginPolicy): void {
  app.addHook('onRequest', async (req, reply) => {
    void reply.headers(HEADERS);
    if (!isHostAllowed(req.headers.host, policy)) {
      throw new ManagementError(
        'AUTH_HOST',
        `Host ${JSON.stringify(req.headers.host ?? '')} is not one this server answers to; add it to management.allowedHosts`,
      );
    }
  });
}
